using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Webhooks.Dispatch.Contracts;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.ConsoleTests;

/// <summary>The auditor's page: deliveries as they happen, each with its attempts, and what an admin can do about them.</summary>
[Collection(InTheBrowser.Name)]
public sealed class when_watching_deliveries(ConsoleWorld world)
{
    private const string Application = "shop";

    private async Task Hook(string eventSource, string name, Uri url, string postMode = PostModes.Async, Guid? key = null)
    {
        await world.Admin.RegisterEventSource(Application, eventSource, new RegisterEventSource("Order", "h_orders", "created"));
        await world.Admin.DefineWebhook(new DefineWebhook(name, null, Application, eventSource, true, key, url.ToString(), "json", postMode, null));
    }

    [Fact]
    public async Task a_publish_shows_up_on_the_deliveries_page_without_reloading()
    {
        await using var receiver = await Receiver.Start();
        await Hook("liveOrder", "live-orders", receiver.Url);
        var page = await world.SignedIn(ConsoleWorld.AuditorKey);
        await page.GotoAsync("/console/deliveries");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Deliveries" })).ToBeVisibleAsync();
        var rows = page.Locator("#rows tbody tr", new() { HasText = "live-orders" });
        await Expect(rows).ToHaveCountAsync(0);

        var published = await world.Publish(Application, "liveOrder", new { h_pk_id = "1" });
        await Expect(rows).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        await Expect(rows.First.Locator(".badge")).ToHaveTextAsync("succeeded", new() { Timeout = 10_000 });
        await Expect(rows.First.GetByRole(AriaRole.Link, new() { Name = $"(delivery {published.Deliveries[0].Id})" })).ToBeVisibleAsync();
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "05-deliveries");
    }

    [Fact]
    public async Task a_deliverys_page_shows_every_attempt_with_secrets_redacted_and_an_admin_redelivers_it()
    {
        await using var receiver = await Receiver.Start();
        receiver.Respond = async (context, number) =>
        {
            context.Response.StatusCode = number == 1 ? 500 : 200;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(number == 1 ? """{"error":"database is down"}""" : """{"ok":true}""");
        };
        var key = await world.KeySafe.CreateKey(new CreateKey("shop basic", KeyTypes.HttpBasic, null, "shop", "never-shown-pass"));
        await Hook("retriedOrder", "retried-orders", receiver.Url, key: key.Id);
        var published = await world.Publish(Application, "retriedOrder", new { h_pk_id = "2" });
        var id = published.Deliveries[0].Id;
        await receiver.WaitFor(2);

        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync($"/console/deliveries?webhook=retried-orders");
        await page.GetByRole(AriaRole.Link, new() { Name = $"(delivery {id})" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/console/deliveries/{id}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Attempt 2" })).ToContainTextAsync("HTTP 200");
        var first = page.Locator("section.attempt", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Attempt 1" }) });
        await Expect(first).ToContainTextAsync("HTTP 500");
        await first.GetByText("Response body (first 4 KiB)").ClickAsync();
        await Expect(first.Locator("pre")).ToContainTextAsync("\"error\": \"database is down\"");
        await first.GetByText("Request headers (credentials redacted)").ClickAsync();
        await Expect(first.Locator("tr", new() { HasText = "Authorization" })).ToContainTextAsync("Basic [redacted]");
        (await page.ContentAsync()).ShouldNotContain("never-shown-pass");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "05-delivery");

        await page.GetByRole(AriaRole.Button, new() { Name = "Redeliver" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Delivered again" })).ToBeVisibleAsync();
        await receiver.WaitFor(3);
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Attempt 3" })).ToBeVisibleAsync();

        // Its event, from the delivery.
        await page.GetByRole(AriaRole.Link, new() { Name = published.EventId.ToString() }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Event {published.EventId}" })).ToContainTextAsync("accepted");
    }

    [Fact]
    public async Task an_auditor_sees_the_same_delivery_without_redeliver()
    {
        await using var receiver = await Receiver.Start();
        await Hook("auditedOrder", "audited-orders", receiver.Url);
        var published = await world.Publish(Application, "auditedOrder", new { h_pk_id = "3" });
        await receiver.WaitFor(1);
        var page = await world.SignedIn(ConsoleWorld.AuditorKey);
        await page.GotoAsync($"/console/deliveries/{published.Deliveries[0].Id}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Attempt 1" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Redeliver" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task a_vetoed_events_page_shows_its_verdict_with_the_veto_text_and_its_deliveries()
    {
        await using var receiver = await Receiver.Start();
        receiver.Respond = async (context, _) =>
        {
            context.Response.StatusCode = 403;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("Orders above the credit limit need a manager.");
        };
        await Hook("vetoedOrder", "credit-check", receiver.Url, PostModes.SyncCritical);
        var eventId = await world.PublishVetoed(Application, "vetoedOrder", new { h_pk_id = "4", total = 99_000 });

        var page = await world.SignedIn(ConsoleWorld.AuditorKey);
        await page.GotoAsync($"/console/events/{eventId}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Event {eventId}" })).ToContainTextAsync("rejected");
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Orders above the credit limit need a manager.");
        await Expect(page.Locator("pre")).ToContainTextAsync("\"total\": 99000");
        await Expect(page.Locator("table tbody tr", new() { HasText = "credit-check" })).ToContainTextAsync("failed");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "06-event-rejected");
    }

    [Fact]
    public async Task an_admin_recovers_the_failed_deliveries_of_a_webhook_since_a_moment()
    {
        await using var receiver = await Receiver.Start();
        var failing = true;
        receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = failing ? 503 : 200;
            return Task.CompletedTask;
        };
        await Hook("lostOrder", "lost-orders", receiver.Url);
        var since = DateTimeOffset.UtcNow.AddMinutes(-1);
        var published = await world.Publish(Application, "lostOrder", new { h_pk_id = "5" });
        var id = published.Deliveries[0].Id;
        await Poll.Until(() => world.Auditor.GetDelivery(id), d => d.Status == DeliveryStatuses.Failed, TimeSpan.FromSeconds(20), d => d.Status);
        failing = false;
        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync("/console/deliveries?webhook=lost-orders");
        await page.GetByLabel("Recover failed deliveries of lost-orders since (UTC)").FillAsync(since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Recover failed since…" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "being delivered again" })).ToContainTextAsync("1 failed delivery is");
        await Expect(page.Locator("#rows tbody tr", new() { HasText = "lost-orders" }).Locator(".badge")).ToHaveTextAsync("succeeded", new() { Timeout = 10_000 });
    }
}
