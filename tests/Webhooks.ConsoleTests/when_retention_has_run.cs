using Microsoft.AspNetCore.Http;
using Refit;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.ConsoleTests;

/// <summary>
/// What retention leaves (issue 16), as an auditor and an admin see it: a delivery whose payload was removed says so and
/// offers no Redeliver; an archived event still opens, from the archive, and says when it was archived. A host of its own
/// runs retention every second with short periods, for the length of the test only (on the console tests' database: what
/// other tests recorded before is masked and archived too; none of them reads what another recorded).
/// </summary>
[Collection(InTheBrowser.Name)]
public sealed class when_retention_has_run(ConsoleWorld world)
{
    private const string Application = "archive";

    [Fact]
    public async Task a_delivery_without_its_payload_and_an_archived_event_say_so()
    {
        await using var receiver = await Receiver.Start();
        receiver.Respond = async (context, _) => await context.Response.WriteAsync("""{"stored":true}""");
        await world.Admin.RegisterEventSource(Application, "oldOrder", new RegisterEventSource("Order", "h_orders", "created"));
        await world.Admin.DefineWebhook(new DefineWebhook("old-orders", null, Application, "oldOrder", true, null, receiver.Url.ToString(), "json", PostModes.Async, null));
        var published = await world.Publish(Application, "oldOrder", new { h_pk_id = "7", total = 12 });
        var id = published.Deliveries[0].Id;
        await receiver.WaitFor(1);
        await Poll.Until(() => world.Auditor.GetDelivery(id), d => d.Status == DeliveryStatuses.Succeeded, TimeSpan.FromSeconds(20), d => d.Status);

        // Payloads kept for a second: removed by the first run.
        await using (var _ = await world.AnotherHost(
            ("Webhooks__Retention__Payloads", "00:00:01"), ("Webhooks__Retention__Deliveries", "1.00:00:00"), ("Webhooks__Retention__RunEvery", "00:00:01")))
        {
            await Poll.Until(() => world.Auditor.GetDelivery(id), d => d.PayloadRemovedAt is not null, TimeSpan.FromSeconds(30), d => "payload still kept");
        }

        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync($"/console/deliveries/{id}");
        await Expect(page.Locator("dl.facts").First).ToContainTextAsync("Removed by retention on");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Redeliver" })).ToHaveCountAsync(0);
        await Expect(page.Locator("section.attempt")).ToContainTextAsync("Removed by retention.");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "05-delivery-payload-removed");
        await page.GotoAsync($"/console/events/{published.EventId}");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Record" })).ToContainTextAsync("Removed by retention on");

        // Records kept for two seconds: archived.
        await using (var _ = await world.AnotherHost(
            ("Webhooks__Retention__Payloads", "00:00:01"), ("Webhooks__Retention__Deliveries", "00:00:02"), ("Webhooks__Retention__RunEvery", "00:00:01")))
        {
            await Poll.Until(
                async () =>
                {
                    try
                    {
                        await world.Auditor.GetDelivery(id);
                        return System.Net.HttpStatusCode.OK;
                    }
                    catch (ApiException refused)
                    {
                        return refused.StatusCode;
                    }
                },
                status => status == System.Net.HttpStatusCode.Gone, TimeSpan.FromSeconds(30));
        }

        await page.GotoAsync($"/console/events/{published.EventId}");
        await Expect(page.Locator("dl.facts").First).ToContainTextAsync("by retention: read from the archive");
        await Expect(page.Locator("table tbody tr", new() { HasText = "old-orders" })).ToContainTextAsync("succeeded");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "06-event-archived");
        await page.GotoAsync($"/console/deliveries/{id}");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("archived by retention on");
        await ConsoleWorld.Shot(page, "05-delivery-archived");
    }
}
