using System.Text.RegularExpressions;

namespace Webhooks.ConsoleTests;

/// <summary>KeySafe in the browser: passwords go in and never come out; a key in use cannot be deleted, and the refusal says by what.</summary>
[Collection(InTheBrowser.Name)]
public sealed class when_keeping_keys(ConsoleWorld world)
{
    private const string Password = "p4ss-typed-once";

    [Fact]
    public async Task a_key_is_created_renamed_rotated_and_its_deletion_refused_while_a_webhook_uses_it()
    {
        var page = await world.SignedIn(ConsoleWorld.KeySafeKey);
        await page.GetByRole(AriaRole.Link, new() { Name = "New key" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("erp basic");
        await page.GetByLabel("Description").FillAsync("The ERP's webhook user");
        await page.GetByLabel("Username").FillAsync("erp-user");
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByLabel("Allowed origins").FillAsync("http://127.0.0.1:9");
        await Expect(page.GetByLabel("Password")).ToHaveAttributeAsync("type", "password");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "08-keysafe-new");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/console/keysafe/[0-9a-f-]{36}\\?done=created$"));
        var id = Guid.Parse(Regex.Match(page.Url, "[0-9a-f-]{36}").Value);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "erp basic" })).ToBeVisibleAsync();
        (await page.ContentAsync()).ShouldNotContain(Password);
        await Expect(page.GetByLabel("Password")).ToHaveValueAsync("");

        // Rename, and rotate the secret.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("erp basic auth");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "erp basic auth" })).ToBeVisibleAsync();
        await page.GetByLabel("Password").FillAsync("a-new-one");
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Secret replaced" })).ToBeVisibleAsync();
        var history = page.Locator("ol.timeline > li");
        await Expect(history).ToHaveCountAsync(3);
        await Expect(history.Nth(0)).ToContainTextAsync("Secret rotated by keysafe");
        await Expect(history.Nth(1)).ToContainTextAsync("Changed: name");

        // A webhook uses it: deleting is refused, naming the webhook.
        await world.Admin.RegisterEventSource("erp", "supplierAdded", new RegisterEventSource("Supplier", null, "created"));
        await world.Admin.DefineWebhook(new DefineWebhook("supplier-sync", null, "erp", "supplierAdded", true, id, "http://127.0.0.1:9/suppliers", "json", "async", null));
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete key" }).ClickAsync();
        var refusal = page.GetByRole(AriaRole.Alert);
        await Expect(refusal).ToContainTextAsync("Not deleted: the key is still in use.");
        await Expect(refusal.GetByRole(AriaRole.Link, new() { Name = "supplier-sync" })).ToHaveAttributeAsync("href", "/console/webhooks/supplier-sync");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "08-keysafe-in-use");
        (await world.KeySafe.GetKey(id)).Name.ShouldBe("erp basic auth");

        // Once no webhook uses it, it goes.
        await world.Admin.DeleteWebhook("supplier-sync");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete key" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/keysafe\\?deleted="));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The key erp basic auth was deleted");
    }

    [Fact]
    public async Task each_type_shows_its_own_fields_and_an_oauth_key_is_created_and_rotated_without_its_secret_coming_back()
    {
        var page = await world.SignedIn(ConsoleWorld.KeySafeKey);
        await page.GotoAsync("/console/keysafe/new");
        await Expect(page.GetByLabel("Username")).ToBeVisibleAsync();
        await page.GetByLabel("Type").SelectOptionAsync(new SelectOptionValue { Label = "OAuth 2.0 client credentials" });
        await Expect(page.GetByLabel("Username")).ToBeHiddenAsync();
        await Expect(page.GetByLabel("Token endpoint")).ToBeVisibleAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("erp oauth");
        await page.GetByLabel("Token endpoint").FillAsync("https://login.example.com/oauth2/token");
        await page.GetByLabel("Client id").FillAsync("webhooks");
        await page.GetByLabel("Client secret").FillAsync(Password);
        await page.GetByLabel("Scope").FillAsync("erp.write");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "08-keysafe-new-oauth");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/console/keysafe/[0-9a-f-]{36}\\?done=created$"));
        var facts = page.Locator("dl.facts");
        await Expect(facts).ToContainTextAsync("OAuth 2.0 client credentials");
        await Expect(facts).ToContainTextAsync("https://login.example.com/oauth2/token");
        await Expect(facts).ToContainTextAsync("erp.write");
        (await page.ContentAsync()).ShouldNotContain(Password);

        // The rotation asks for this type's fields only, all of them anew.
        await Expect(page.GetByLabel("Username")).ToHaveCountAsync(0);
        await Expect(page.GetByLabel("Token endpoint")).ToHaveValueAsync("https://login.example.com/oauth2/token");
        await page.GetByLabel("Client id").FillAsync("");
        await page.GetByLabel("Client secret").FillAsync("second-secret");
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        await Expect(page.Locator("#clientId-error")).ToContainTextAsync("The client id is required.");
        await Expect(page.GetByLabel("Scope")).ToHaveValueAsync("erp.write");
        (await page.ContentAsync()).ShouldNotContain("second-secret");
        await page.GetByLabel("Client id").FillAsync("webhooks");
        await page.GetByLabel("Token endpoint").FillAsync("https://login.example.com/oauth2/v2/token");
        await page.GetByLabel("Client secret").FillAsync("second-secret");
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Secret replaced" })).ToBeVisibleAsync();
        await Expect(page.Locator("ol.timeline > li").Nth(0)).ToContainTextAsync("Changed: tokenUrl, secret");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "08-keysafe-oauth-detail");
    }

    [Fact]
    public async Task an_oversized_pkcs12_file_is_refused_beside_its_field_unread()
    {
        var page = await world.SignedIn(ConsoleWorld.KeySafeKey);
        await page.GotoAsync("/console/keysafe/new");
        await page.GetByLabel("Type").SelectOptionAsync(new SelectOptionValue { Label = "TLS client certificate" });
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("too big");
        await page.GetByLabel("Or a PKCS#12 file").SetInputFilesAsync(new FilePayload { Name = "big.p12", MimeType = "application/x-pkcs12", Buffer = new byte[60_000] });
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(page.Locator("#pkcs12Base64-error")).ToContainTextAsync("The PKCS#12 file may be at most 48 KiB.");
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("too big");
        (await world.KeySafe.ListKeys()).Items.ShouldNotContain(k => k.Name == "too big");
    }

    [Fact]
    public async Task a_refused_key_keeps_what_was_typed_but_the_password()
    {
        var page = await world.SignedIn(ConsoleWorld.KeySafeKey);
        await page.GotoAsync("/console/keysafe/new");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("colon key");
        await page.GetByLabel("Username").FillAsync("has:colon");
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#username-error")).ToContainTextAsync("without ':'");
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("colon key");
        await Expect(page.GetByLabel("Password")).ToHaveValueAsync("");
        (await page.ContentAsync()).ShouldNotContain(Password);
    }
}
