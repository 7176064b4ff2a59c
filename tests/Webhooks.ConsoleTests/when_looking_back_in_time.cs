
namespace Webhooks.ConsoleTests;

/// <summary>A webhook's page: its history with who changed what, the webhook as it was at any moment, its signing secret on demand.</summary>
[Collection(InTheBrowser.Name)]
public sealed class when_looking_back_in_time(ConsoleWorld world)
{
    [Fact]
    public async Task the_history_shows_each_change_and_who_made_it_and_the_page_shows_the_webhook_as_it_was()
    {
        await world.Admin.RegisterEventSource("billing", "invoicePaid", new RegisterEventSource("Invoice", null, "updated"));
        var first = await world.Admin.DefineWebhook(new DefineWebhook("travelled", "first version", "billing", "invoicePaid", true, null, "http://127.0.0.1:9/v1", "json", "async", null));
        await Task.Delay(1100);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(1100);
        await world.Admin.UpdateWebhook("travelled", new DefineWebhook("travelled", "second version", "billing", "invoicePaid", true, null, "http://127.0.0.1:9/v2", "xml", "async", null), $"\"{first.Version}\"");
        await world.Admin.DisableWebhook("travelled", reason: "the ERP is being upgraded");

        var page = await world.SignedIn(ConsoleWorld.AuditorKey);
        await page.GotoAsync("/console/webhooks/travelled");
        var history = page.Locator("ol.timeline > li");
        await Expect(history).ToHaveCountAsync(3);
        await Expect(history.Nth(0)).ToContainTextAsync("Version 3: Disabled");
        await Expect(history.Nth(0)).ToContainTextAsync("Reason: the ERP is being upgraded");
        await Expect(history.Nth(1)).ToContainTextAsync("by admin");
        await Expect(history.Nth(1).Locator("ul.changes")).ToContainTextAsync("URL: http://127.0.0.1:9/v1 → http://127.0.0.1:9/v2");
        await Expect(history.Nth(1).Locator("ul.changes")).ToContainTextAsync("Payload Format: JSON → XML");
        await Expect(history.Nth(2)).ToContainTextAsync("Version 1: Defined by admin");
        await Expect(history.Nth(2).Locator("ul.changes")).ToContainTextAsync("Post Mode: Asynchronous");
        await Expect(history.Nth(2).Locator("del")).ToHaveCountAsync(0);
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "04-webhook-detail");

        await page.GetByLabel("View as of (UTC)").FillAsync(between.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "View", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Shown as it was at" })).ToContainTextAsync("version 1");
        await Expect(page.Locator("dl.facts").First).ToContainTextAsync("http://127.0.0.1:9/v1");
        await Expect(page.Locator("dl.facts").First).ToContainTextAsync("JSON");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "travelled" })).ToContainTextAsync("enabled");
        await ConsoleWorld.Shot(page, "04-webhook-as-of");

        await page.GetByRole(AriaRole.Link, new() { Name = "Back to now" }).ClickAsync();
        await Expect(page.Locator("dl.facts").First).ToContainTextAsync("http://127.0.0.1:9/v2");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "travelled" })).ToContainTextAsync("disabled");
    }

    [Fact]
    public async Task an_admin_sees_the_signing_secret_only_when_asked_and_rotates_it()
    {
        await world.Admin.RegisterEventSource("billing", "invoiceSent", new RegisterEventSource("Invoice", null, "created"));
        await world.Admin.DefineWebhook(new DefineWebhook("signed", null, "billing", "invoiceSent", true, null, "http://127.0.0.1:9/s", "json", "async", null));
        var secret = (await world.Admin.GetSigningSecret("signed")).Secret;
        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync("/console/webhooks/signed");
        (await page.ContentAsync()).ShouldNotContain(secret);

        await page.GetByRole(AriaRole.Button, new() { Name = "Show signing secret" }).ClickAsync();
        await Expect(page.Locator("#secret-value")).ToHaveTextAsync(secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
        await Expect(page.Locator("#secret-value")).Not.ToHaveTextAsync(secret);
        await Expect(page.GetByText("The previous secret also signs until")).ToBeVisibleAsync();
        (await world.Admin.GetSigningSecret("signed")).PreviousSecret.ShouldBe(secret);
    }
}
