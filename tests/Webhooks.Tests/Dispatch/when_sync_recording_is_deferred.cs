using System.Net;
using Alba;
using Npgsql;
using Refit;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// <c>Webhooks:Dispatch:SyncRecording = Deferred</c>: a publish with sync webhooks only is answered right after its
/// calls and its record follows; an Idempotency-Key or an async delivery still waits for the commit. A host of its
/// own, on a database of its own.
/// </summary>
[Collection(SharedHost.Name)]
public sealed class when_sync_recording_is_deferred : IAsyncLifetime
{
    private Receiver receiver = null!;
    private IAlbaHost host = null!;
    private IWebhooksApi auditor = null!;
    private string connection = null!;

    public async Task InitializeAsync()
    {
        receiver = await Receiver.Start();
        connection = await TestDatabase.Fresh("deferred");
        host = await AppFixture.StartHost(new Dictionary<string, string>
        {
            ["ConnectionStrings:Webhooks"] = connection,
            [$"Webhooks:KeySafe:MasterKeys:{AppFixture.MasterKeyId}"] = AppFixture.MasterKey,
            ["Webhooks:Dispatch:SyncRecording"] = "Deferred",
        });
        var admin = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Admin);
        auditor = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Auditor);
        await host.ExecuteAndWaitAsync(() => admin.RegisterEventSource(DefinitionsSetup.Application, DefinitionsSetup.EventSource,
            new RegisterEventSource("Contact", null, "update")));
        await host.ExecuteAndWaitAsync(() => admin.DefineWebhook(DefinitionsSetup.Webhook("veto") with { Url = receiver.Url.ToString(), PostMode = PostModes.SyncCritical }));
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await receiver.DisposeAsync();
    }

    [Fact]
    public async Task a_sync_publish_is_answered_and_its_record_follows()
    {
        // Writes of new streams wait while this transaction holds the lock: a Durable host could not answer now.
        await using var blocker = new NpgsqlConnection(connection);
        await blocker.OpenAsync();
        var holding = await blocker.BeginTransactionAsync();
        await using (var lockStreams = new NpgsqlCommand("lock table webhooks.mt_streams in exclusive mode", blocker, holding))
        {
            await lockStreams.ExecuteNonQueryAsync();
        }

        var answer = await host.Publish(HttpStatusCode.OK);
        var eventId = answer.GetProperty("eventId").GetGuid();
        receiver.Requests.Count.ShouldBe(1);
        (await Should.ThrowAsync<ApiException>(() => auditor.GetEvent(eventId))).StatusCode
            .ShouldBe(HttpStatusCode.NotFound, "the answer came before the record was committed");

        await holding.RollbackAsync();
        var recorded = await Eventually(() => auditor.GetEvent(eventId));
        recorded.Verdict.ShouldBe("Allowed");
        recorded.Deliveries.ShouldHaveSingleItem().Status.ShouldBe(DeliveryStatuses.Succeeded);
    }

    [Fact]
    public async Task with_an_idempotency_key_the_record_is_committed_before_the_answer()
    {
        var answer = await host.Publish(HttpStatusCode.OK, idempotencyKey: "deferred-1");

        // No waiting: the answer a repeated key must find was committed before this one was sent.
        var recorded = await auditor.GetEvent(answer.GetProperty("eventId").GetGuid());
        recorded.Deliveries.ShouldHaveSingleItem().Status.ShouldBe(DeliveryStatuses.Succeeded);
        (await host.Publish(HttpStatusCode.OK, idempotencyKey: "deferred-1")).GetProperty("eventId").GetGuid()
            .ShouldBe(recorded.EventId);
    }

    private static async Task<T> Eventually<T>(Func<Task<T>> read)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return await read();
            }
            catch (ApiException missing) when (missing.StatusCode == HttpStatusCode.NotFound && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }
}
