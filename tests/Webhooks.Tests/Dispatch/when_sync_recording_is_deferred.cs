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
        Guid eventId;
        await using (await LockStreams())
        {
            var answer = await host.Publish(HttpStatusCode.OK);
            eventId = answer.GetProperty("eventId").GetGuid();
            receiver.Requests.Count.ShouldBe(1);
            (await Should.ThrowAsync<ApiException>(() => auditor.GetEvent(eventId))).StatusCode
                .ShouldBe(HttpStatusCode.NotFound, "the answer came before the record was committed");
        }

        var recorded = await Eventually(() => auditor.GetEvent(eventId));
        recorded.Verdict.ShouldBe("Allowed");
        recorded.Deliveries.ShouldHaveSingleItem().Status.ShouldBe(DeliveryStatuses.Succeeded);
    }

    [Fact]
    public async Task with_an_idempotency_key_the_answer_waits_for_the_record()
    {
        Task<System.Text.Json.JsonElement> publishing;
        await using (await LockStreams())
        {
            publishing = host.Publish(HttpStatusCode.OK, idempotencyKey: "deferred-1");
            await Task.Delay(500);
            publishing.IsCompleted.ShouldBeFalse("the answer a repeated key must find is not committed yet");
        }

        var answer = await publishing;
        var recorded = await auditor.GetEvent(answer.GetProperty("eventId").GetGuid());
        recorded.Deliveries.ShouldHaveSingleItem().Status.ShouldBe(DeliveryStatuses.Succeeded);
        (await host.Publish(HttpStatusCode.OK, idempotencyKey: "deferred-1")).GetProperty("eventId").GetGuid()
            .ShouldBe(recorded.EventId);
    }

    /// <summary>Holds an exclusive lock on the event streams table until disposed: no new stream can be committed.</summary>
    private async Task<NpgsqlConnection> LockStreams()
    {
        var blocker = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection) { Pooling = false }.ConnectionString);
        await blocker.OpenAsync();
        await using var begin = new NpgsqlCommand("begin; lock table webhooks.mt_streams in exclusive mode", blocker);
        await begin.ExecuteNonQueryAsync();
        return blocker; // closing the connection ends the transaction and its lock
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
