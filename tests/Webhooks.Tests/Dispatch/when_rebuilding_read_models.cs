using System.Net;
using System.Text.Json;
using Npgsql;
using Webhooks.Client;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>Read models are projections of the events: wiped and rebuilt, they answer exactly as before.</summary>
public sealed class when_rebuilding_read_models(AppFixture fixture) : AppTest(fixture)
{
    private static readonly string[] ReadModelTables =
        ["mt_doc_eventsource", "mt_doc_catalogapplication", "mt_doc_webhook", "mt_doc_key", "mt_doc_deliverylog", "mt_doc_changeentry"];

    [Fact]
    public async Task wiped_read_models_rebuild_to_the_same_answers()
    {
        await using var receiver = await Receiver.Start();
        receiver.Respond = (context, number) =>
        {
            context.Response.StatusCode = number == 1 ? 500 : 200;
            return Task.CompletedTask;
        };
        await Fixture.DispatchCatalog();
        var key = await Fixture.CreatedKey();
        await Fixture.Client(TestKeys.KeySafe).UpdateKey(key.Id, new Webhooks.KeySafe.Contracts.UpdateKey("renamed", "described"));
        var deleted = await Fixture.CreatedKey("deleted-later");
        await Fixture.Client(TestKeys.KeySafe).DeleteKey(deleted.Id);
        await Fixture.Hook("notify-crm", receiver.Url, keyId: key.Id);
        await Host.ExecuteAndWaitAsync(() => Fixture.Client(TestKeys.Admin).DisableWebhook("notify-crm"));
        await Host.ExecuteAndWaitAsync(() => Fixture.Client(TestKeys.Admin).EnableWebhook("notify-crm"));
        await Host.Publish(HttpStatusCode.Accepted);
        await receiver.WaitFor(2);
        var admin = Fixture.Client(TestKeys.Admin);
        await Poll.Until(() => admin.ListDeliveries(status: "succeeded"), page => page.Items.Count > 0, TimeSpan.FromSeconds(10));

        await Fixture.AuditCaughtUp();
        var before = await Answers();
        await Wipe();
        (await Answers()).ShouldNotBe(before, "the wipe must have removed what the answers show");

        var rebuilt = await admin.RebuildProjections();

        rebuilt.Select(r => r.Projection).ShouldBe([
            "CatalogApplication", "ChangeEntry:definitions", "ChangeEntry:keysafe", "DeliveryLog", "EventSource", "Key", "Webhook",
        ]);
        (await Answers()).ShouldBe(before);
    }

    private async Task<string> Answers()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        var keysafe = Fixture.Client(TestKeys.KeySafe);
        var answers = new List<object?>
        {
            await admin.ListApplications(),
            await admin.ListEventSources(DefinitionsSetup.Application).ContinueWith(t => t.IsFaulted ? null : (object)t.Result),
            await admin.ListWebhooks(),
            await keysafe.ListKeys(),
            await admin.ListDeliveries(),
            await Fixture.Client(TestKeys.Auditor).GetAuditLog(),
        };
        return JsonSerializer.Serialize(answers, WebhooksClient.JsonOptions);
    }

    private static async Task Wipe()
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        foreach (var table in ReadModelTables)
        {
            await using var delete = new NpgsqlCommand($"delete from webhooks.{table}", connection);
            await delete.ExecuteNonQueryAsync();
        }
    }
}
