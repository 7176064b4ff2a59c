using System.Net;
using Alba;
using Microsoft.AspNetCore.Http;
using Npgsql;
using Webhooks.Client;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// A host accepts an event, its delivery fails once, and the host goes away before the retry; a new host on the
/// same database delivers it, with the same webhook-id. Runs on a database of its own, so the shared test host
/// cannot do the new host's work.
/// </summary>
[Collection(SharedHost.Name)]
public sealed class when_the_host_restarts : IAsyncLifetime
{
    private Receiver receiver = null!;
    private string connection = null!;

    public async Task InitializeAsync()
    {
        receiver = await Receiver.Start();
        connection = await TestDatabase.Fresh("restart");
    }

    public async Task DisposeAsync() => await receiver.DisposeAsync();

    [Fact]
    public async Task an_accepted_delivery_still_arrives_after_a_restart()
    {
        receiver.Respond = (context, number) =>
        {
            context.Response.StatusCode = number == 1 ? 503 : 200;
            return Task.CompletedTask;
        };
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Webhooks"] = connection,
            [$"Webhooks:KeySafe:MasterKeys:{AppFixture.MasterKeyId}"] = AppFixture.MasterKey,
            ["Webhooks:Dispatch:RetrySchedule:0"] = "00:00:02",
        };

        Guid deliveryId;
        await using (var first = await AppFixture.StartHost(settings))
        {
            var admin = WebhooksClient.Create(first.Server.CreateClient(), TestKeys.Admin);
            await first.ExecuteAndWaitAsync(() => admin.RegisterEventSource(DefinitionsSetup.Application, DefinitionsSetup.EventSource,
                new Webhooks.Definitions.Contracts.RegisterEventSource("Contact", null, "update")));
            await first.ExecuteAndWaitAsync(() => admin.DefineWebhook(DefinitionsSetup.Webhook() with { Url = receiver.Url.ToString() }));

            var accepted = await first.Publish(HttpStatusCode.Accepted);
            deliveryId = accepted.GetProperty("deliveries")[0].GetProperty("id").GetGuid();
            await receiver.WaitFor(1);
        }

        receiver.Requests.Count.ShouldBe(1, "the retry was due after the first host stopped");

        await using var second = await AppFixture.StartHost(settings);
        var delivered = await receiver.WaitFor(2, TimeSpan.FromSeconds(30));

        delivered[1].Header("webhook-id").ShouldBe(deliveryId.ToString());
    }
}
