using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.ConsoleTests;

/// <summary>Hornbill's configuration page, done in the browser the way an admin does it: by the seed's labels.</summary>
[Collection(InTheBrowser.Name)]
public sealed class when_defining_a_webhook(ConsoleWorld world)
{
    private const string Application = "crm";
    private const string EventSource = "contactCreated";

    private async Task Catalog()
    {
        await world.Admin.RegisterEventSource(Application, EventSource, new RegisterEventSource(
            "Contact", "h_sys_contacts", "created", "A contact was created",
            JsonNode.Parse("""{"h_pk_id":"103","h_name":"Gary","h_email":"g@example.com"}""")!.AsObject()));
    }

    [Fact]
    public async Task an_admin_fills_the_seeds_form_by_its_labels_and_the_webhook_is_defined_as_typed()
    {
        await Catalog();
        var key = await world.KeySafe.CreateKey(new CreateKey("crm form key", KeyTypes.HttpBasic, null, "crm", "form-pass-1"));
        var token = await world.KeySafe.CreateKey(new CreateKey("erp tenant token", KeyTypes.Bearer, null, null, null, Token: "tenant-token-1"));
        await using var receiver = await Receiver.Start();
        var page = await world.SignedIn(ConsoleWorld.AdminKey);

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Console" }).GetByRole(AriaRole.Link, new() { Name = "Webhooks" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "New webhook" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "New webhook" })).ToBeVisibleAsync();

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("contact-to-erp");
        await page.GetByLabel("Description").FillAsync("Tells the ERP about new contacts");
        await page.GetByLabel("Application").SelectOptionAsync(Application);
        // The event sources of the chosen application arrive by themselves.
        await Expect(page.GetByLabel("Event Source").Locator("option", new() { HasText = EventSource })).ToHaveCountAsync(1);
        await page.GetByLabel("Event Source").SelectOptionAsync(EventSource);
        await Expect(page.GetByLabel("Enabled")).ToBeCheckedAsync();
        await page.GetByLabel("Authentication").SelectOptionAsync(new SelectOptionValue { Label = "crm form key (crm)" });
        await page.GetByLabel("URL").FillAsync(receiver.Url.ToString());
        await page.GetByLabel("Custom headers").FillAsync("X-Tenant: acme\nX-Tenant-Token: keysafe:erp tenant token");
        await page.GetByText("Delivery control (optional)").ClickAsync();
        await page.GetByLabel("Rate limit (calls a second)").FillAsync("5");
        await page.GetByLabel("Deliver in order").CheckAsync();
        await page.GetByLabel("XML").CheckAsync();
        await Expect(page.GetByText("If you do not need to act on the response from the webhook being called")).ToBeVisibleAsync();
        await Expect(page.GetByText("but the webhook must return a 2xx success response")).ToBeVisibleAsync();
        await page.GetByLabel("Synchronous", new() { Exact = true }).CheckAsync();

        // Checked as you type: the position of a mistake, then the sample record tried.
        var trigger = page.GetByLabel("Trigger Expression");
        await trigger.FillAsync("h_name = ");
        await Expect(page.Locator("#trigger-check")).ToContainTextAsync(new Regex("Does not parse at position \\d+"));
        await trigger.FillAsync("h_name = 'Gary'");
        await Expect(page.Locator("#trigger-check")).ToContainTextAsync("The sample record matches");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "03-webhook-form");

        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/webhooks/contact-to-erp\\?saved=true$"));
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Saved" })).ToBeVisibleAsync();

        var saved = await world.Admin.GetWebhook("contact-to-erp");
        (saved.Description, saved.Application, saved.EventSource, saved.Enabled, saved.KeySafeKeyId, saved.Url, saved.PayloadFormat, saved.PostMode, saved.TriggerExpression)
            .ShouldBe(("Tells the ERP about new contacts", Application, EventSource, true, (Guid?)key.Id, receiver.Url.ToString(), PayloadFormats.Xml, PostModes.Sync, "h_name = 'Gary'"));
        saved.Headers!["X-Tenant"].ShouldBe(new HeaderValue("acme"));
        saved.RateLimit.ShouldBe(new RateLimit(5, 5));
        saved.Ordering.ShouldBe(new Ordering(true));
        saved.Headers["X-Tenant-Token"].ShouldBe(HeaderValue.FromKey(token.Id));
        await Expect(page.GetByText("X-Tenant-Token: KeySafe key erp tenant token")).ToBeVisibleAsync();

        // Opened again, the form writes the headers as they were typed.
        await page.GotoAsync("/console/webhooks/contact-to-erp/edit");
        await Expect(page.GetByLabel("Custom headers")).ToHaveValueAsync("X-Tenant: acme\nX-Tenant-Token: keysafe:erp tenant token");
        await page.GetByLabel("Custom headers").FillAsync("X-Tenant acme");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#headers-error")).ToContainTextAsync("'X-Tenant acme' is not a header: write one per line as Name: value");
    }

    [Fact]
    public async Task the_apis_field_errors_appear_beside_their_fields_in_words()
    {
        await Catalog();
        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync("/console/webhooks/new");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("has spaces in it");
        await page.GetByLabel("Application").SelectOptionAsync(Application);
        await page.GetByLabel("Event Source").SelectOptionAsync(EventSource);
        await page.GetByLabel("URL").FillAsync("ftp://example.invalid/x");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(page.Locator("#name-error")).ToBeVisibleAsync();
        await Expect(page.Locator("#url-error")).ToContainTextAsync("http");
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByLabel("URL")).ToHaveAttributeAsync("aria-describedby", "url-error");
        // What was typed stays; no raw JSON, no stack trace.
        await Expect(page.GetByLabel("URL")).ToHaveValueAsync("ftp://example.invalid/x");
        var text = await page.Locator("main").InnerTextAsync();
        text.ShouldNotContain("\"type\"");
        text.ShouldNotContain("   at ");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "03-webhook-form-errors");
        (await world.Admin.ListWebhooks(q: "has spaces")).Items.ShouldBeEmpty();
    }

    [Fact]
    public async Task a_concurrent_edit_is_shown_with_the_other_versions_changes_and_saving_again_replaces_it_knowingly()
    {
        await Catalog();
        await world.Admin.DefineWebhook(new DefineWebhook("edited-twice", null, Application, EventSource, true, null, "http://127.0.0.1:9/a", "json", "async", null));
        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync("/console/webhooks/edited-twice/edit");
        await Expect(page.GetByLabel("URL")).ToHaveValueAsync("http://127.0.0.1:9/a");

        // Someone else saves first.
        var other = await world.Admin.GetWebhook("edited-twice");
        await world.Admin.UpdateWebhook("edited-twice", new DefineWebhook(other.Name, "changed by someone else", other.Application, other.EventSource,
            other.Enabled, null, other.Url, other.PayloadFormat, other.PostMode, null), $"\"{other.Version}\"");

        await page.GetByLabel("URL").FillAsync("http://127.0.0.1:9/b");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        var conflict = page.Locator("#conflict");
        await Expect(conflict).ToContainTextAsync("Someone else changed this webhook");
        await Expect(conflict).ToContainTextAsync("changed by someone else");
        await Expect(page.GetByLabel("URL")).ToHaveValueAsync("http://127.0.0.1:9/b");
        await ConsoleWorld.Shot(page, "03-webhook-form-conflict");

        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("saved=true$"));
        (await world.Admin.GetWebhook("edited-twice")).Url.ShouldBe("http://127.0.0.1:9/b");
    }

    [Fact]
    public async Task the_switch_on_each_row_enables_and_disables_by_mouse_and_by_keyboard()
    {
        await Catalog();
        await world.Admin.DefineWebhook(new DefineWebhook("switched", null, Application, EventSource, true, null, "http://127.0.0.1:9/s", "json", "async", null));
        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync("/console/webhooks?q=switched");
        var toggle = page.GetByRole(AriaRole.Switch, new() { Name = "Enabled: switched" });
        await Expect(toggle).ToHaveAttributeAsync("aria-checked", "true");

        await toggle.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Switch, new() { Name = "Enabled: switched" })).ToHaveAttributeAsync("aria-checked", "false");
        (await world.Admin.GetWebhook("switched")).Enabled.ShouldBeFalse();
        await ConsoleWorld.Shot(page, "02-webhooks-switch-off");

        await page.GetByRole(AriaRole.Switch, new() { Name = "Enabled: switched" }).FocusAsync();
        await page.Keyboard.PressAsync("Space");
        await Expect(page.GetByRole(AriaRole.Switch, new() { Name = "Enabled: switched" })).ToHaveAttributeAsync("aria-checked", "true");
        (await world.Admin.GetWebhook("switched")).Enabled.ShouldBeTrue();
        await Expect(page.GetByRole(AriaRole.Switch, new() { Name = "Enabled: switched" })).ToBeFocusedAsync();
    }

    /// <summary>
    /// Issue 15: deliveries of a disabled webhook are kept; enabling it from its page says what becomes of them. Here a
    /// delivery is kept (its target failed, then the webhook was disabled) and the admin chooses to fail it.
    /// </summary>
    [Fact]
    public async Task enabling_from_the_webhooks_page_chooses_what_becomes_of_the_deliveries_kept_meanwhile()
    {
        // An event source of its own: other tests' webhooks must not take the event too.
        await world.Admin.RegisterEventSource(Application, "contactKept", new RegisterEventSource("Contact", null, "updated"));
        await using var receiver = await Receiver.Start();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Respond = async (context, _) =>
        {
            arrived.TrySetResult();
            await release.Task;
            context.Response.StatusCode = 500;
        };
        await world.Admin.DefineWebhook(new DefineWebhook("kept", null, Application, "contactKept", true, null, receiver.Url.ToString(), "json", "async", null));
        var id = (await world.Publish(Application, "contactKept", new { h_pk_id = "kept-1" })).Deliveries.Single().Id;
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await world.Admin.DisableWebhook("kept", reason: "maintenance");
        release.SetResult();
        await Poll.Until(() => world.Auditor.GetDelivery(id), d => d.Reason?.StartsWith("Waiting: the webhook is disabled", StringComparison.Ordinal) == true);

        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync("/console/webhooks/kept");
        var kept = page.GetByLabel("Deliveries kept while disabled:");
        await Expect(kept).ToHaveValueAsync("resume");
        await kept.SelectOptionAsync("fail");
        await ConsoleWorld.Shot(page, "04-webhook-enable-kept");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enable", Exact = true }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Disable", Exact = true })).ToBeVisibleAsync();
        var failed = await Poll.Until(() => world.Auditor.GetDelivery(id), d => d.Status != "pending");
        failed.Status.ShouldBe("failed");
        failed.Reason!.ShouldContain("pending=fail");
        receiver.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task the_list_searches_by_name_and_filters_by_application_and_enabled()
    {
        await Catalog();
        await world.Admin.RegisterEventSource("erp", "orderPlaced", new RegisterEventSource("Order", null, "created"));
        await world.Admin.DefineWebhook(new DefineWebhook("filter-crm-on", null, Application, EventSource, true, null, "http://127.0.0.1:9/f", "json", "async", null));
        await world.Admin.DefineWebhook(new DefineWebhook("filter-crm-off", null, Application, EventSource, false, null, "http://127.0.0.1:9/f", "json", "async", null));
        await world.Admin.DefineWebhook(new DefineWebhook("filter-erp-on", null, "erp", "orderPlaced", true, null, "http://127.0.0.1:9/f", "json", "async", null));
        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync("/console/webhooks");

        await page.GetByLabel("Search by name").FillAsync("filter-");
        await page.GetByLabel("Search by name").PressAsync("Enter");
        await Expect(Names(page)).ToHaveTextAsync(["filter-crm-off", "filter-crm-on", "filter-erp-on"]);
        await page.GetByLabel("Application").SelectOptionAsync("erp");
        await Expect(Names(page)).ToHaveTextAsync(["filter-erp-on"]);
        await page.GotoAsync("/console/webhooks?q=filter-&enabled=false");
        await Expect(Names(page)).ToHaveTextAsync(["filter-crm-off"]);
        await Expect(page.GetByLabel("Enabled", new() { Exact = true })).ToHaveValueAsync("false");
    }

    private static ILocator Names(IPage page) => page.Locator("table tbody tr td:first-child a");
}
