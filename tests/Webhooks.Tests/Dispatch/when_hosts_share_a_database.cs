using System.Net;
using System.Text.Json;
using Alba;
using Npgsql;
using Webhooks.Client;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// Two hosts on one database: a webhook defined through one is matched by the other, which never handled the
/// definition's message (each node handles its own durable local queue) and learns it from PostgreSQL's notification.
/// </summary>
[Collection(SharedHost.Name)]
public sealed class when_hosts_share_a_database : IAsyncLifetime
{
    private Receiver receiver = null!;
    private Dictionary<string, string> settings = null!;

    public async Task InitializeAsync()
    {
        receiver = await Receiver.Start();
        settings = await AppFixture.OwnDatabase("shared");
    }

    public async Task DisposeAsync() => await receiver.DisposeAsync();

    [Fact]
    public async Task a_webhook_defined_on_one_host_is_matched_by_the_other()
    {
        await using var first = await AppFixture.StartHost(settings);
        await using var second = await AppFixture.StartHost(settings);

        var admin = WebhooksClient.Create(first.Server.CreateClient(), TestKeys.Admin);
        await first.ExecuteAndWaitAsync(() => admin.RegisterEventSource(DefinitionsSetup.Application, DefinitionsSetup.EventSource,
            new Webhooks.Definitions.Contracts.RegisterEventSource("Contact", null, "update")));
        await first.ExecuteAndWaitAsync(() => admin.DefineWebhook(DefinitionsSetup.Webhook() with { Url = receiver.Url.ToString() }));

        // The notification arrives within milliseconds; a bounded wait, since no tracking spans two hosts.
        var answer = await Poll.Until(() => Publish(second), a => a.Status == HttpStatusCode.Accepted && a.Body.GetProperty("deliveries").GetArrayLength() == 1,
            TimeSpan.FromSeconds(5), a => a.Body.ToString(), every: TimeSpan.FromMilliseconds(100));
        (await receiver.WaitFor(1))[0].Header("webhook-id").ShouldBe(answer.Body.GetProperty("deliveries")[0].GetProperty("id").GetString());

        await first.ExecuteAndWaitAsync(() => admin.DisableWebhook("notify-crm"));
        await Poll.Until(() => Publish(second), a => a.Body.GetProperty("deliveries").GetArrayLength() == 0, TimeSpan.FromSeconds(5),
            a => $"the other host did not see the webhook disabled: {a.Body}", every: TimeSpan.FromMilliseconds(100));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Publish(Alba.IAlbaHost host)
    {
        var result = await host.Scenario(s =>
        {
            s.WithKey(TestKeys.Publisher);
            s.Post.Json(DispatchSetup.Event()).ToUrl("/events");
            s.IgnoreStatusCode();
        });
        return ((HttpStatusCode)result.Context.Response.StatusCode, JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone());
    }
}
