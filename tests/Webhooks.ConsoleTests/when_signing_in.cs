using System.Text.RegularExpressions;

namespace Webhooks.ConsoleTests;

[Collection(InTheBrowser.Name)]
public sealed partial class when_signing_in(ConsoleWorld world)
{
    [Fact]
    public async Task a_browser_opening_the_root_lands_on_the_sign_in_page_and_the_key_never_comes_back_into_a_page()
    {
        var page = await world.NewPage();
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(SignInUrl());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Webhooks" })).ToBeVisibleAsync();
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "01-sign-in");

        await page.GetByLabel("API key").FillAsync(ConsoleWorld.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();

        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "webhooks-console");
        cookie.HttpOnly.ShouldBeTrue();
        cookie.SameSite.ShouldBe(SameSiteAttribute.Strict);
        cookie.Path.ShouldBe("/console");
        cookie.Value.ShouldNotContain(ConsoleWorld.AdminKey, Case.Sensitive, "the cookie is encrypted");
        (await page.ContentAsync()).ShouldNotContain(ConsoleWorld.AdminKey);
        (await page.EvaluateAsync<string>("document.cookie")).ShouldNotContain("webhooks-console=", Case.Sensitive, "script cannot read it");
    }

    [Fact]
    public async Task an_unknown_key_and_a_publisher_key_are_refused_with_a_clear_message()
    {
        var page = await world.NewPage();
        await page.GotoAsync("/console/sign-in");
        await page.GetByLabel("API key").FillAsync("not-a-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("That API key is not known");
        await Expect(page.GetByLabel("API key")).ToHaveValueAsync("", new() { Timeout = 1000 });

        await page.GetByLabel("API key").FillAsync(ConsoleWorld.PublisherKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("can only publish events");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "01-sign-in-refused");
        await Expect(page).ToHaveURLAsync(SignInUrl());
    }

    [Fact]
    public async Task an_auditor_sees_everything_read_only_without_a_single_write_button()
    {
        await world.Admin.RegisterEventSource("crm", "auditorSees", new("Contact", "h_sys_contacts", "created"));
        await world.Admin.DefineWebhook(new("seen-by-auditor", null, "crm", "auditorSees", true, null, "http://127.0.0.1:9/x", "json", "async", null));
        var page = await world.SignedIn(ConsoleWorld.AuditorKey);

        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Console" });
        await Expect(nav.GetByRole(AriaRole.Link)).ToHaveTextAsync(["Overview", "Webhooks", "Deliveries", "KeySafe", "Catalog", "Audit log"]);
        await page.GotoAsync("/console/webhooks");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "seen-by-auditor" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "New webhook" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Switch, new() { Name = "Enabled: seen-by-auditor" })).ToBeDisabledAsync();

        await page.GotoAsync("/console/webhooks/seen-by-auditor");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "seen-by-auditor" })).ToBeVisibleAsync();
        foreach (var write in new[] { "Edit", "Test", "Disable", "Delete", "Show signing secret" })
        {
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = write, Exact = true })).ToHaveCountAsync(0);
            await Expect(page.GetByRole(AriaRole.Link, new() { Name = write, Exact = true })).ToHaveCountAsync(0);
        }

        // Typing a write page's address is refused by a page that says why (the API would refuse it anyway).
        var refused = await page.GotoAsync("/console/webhooks/new");
        refused!.Status.ShouldBe(403);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("roles: auditor");
        await ConsoleWorld.Shot(page, "01-not-allowed");
    }

    [Fact]
    public async Task a_keysafe_key_sees_keysafe_only()
    {
        var page = await world.SignedIn(ConsoleWorld.KeySafeKey);
        await Expect(page).ToHaveURLAsync(new Regex("/console/keysafe$"));
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Console" });
        await Expect(nav.GetByRole(AriaRole.Link)).ToHaveTextAsync(["KeySafe"]);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "New key" })).ToBeVisibleAsync();
        (await page.GotoAsync("/console/deliveries"))!.Status.ShouldBe(403);
        (await page.GotoAsync("/console/audit"))!.Status.ShouldBe(403);
    }

    [Fact]
    public async Task signing_out_ends_the_session_and_the_keyboard_alone_signs_in()
    {
        var page = await world.NewPage();
        await page.GotoAsync("/console/sign-in");
        // The key field has the focus from the start; Enter submits.
        await Expect(page.GetByLabel("API key")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(ConsoleWorld.AdminKey);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(SignInUrl());
        await page.GotoAsync("/console/webhooks");
        await Expect(page).ToHaveURLAsync(SignInUrl());
    }

    [Fact]
    public async Task a_session_ends_after_its_configured_lifetime_and_says_so()
    {
        await using var host = await world.AnotherHost(("Webhooks__Console__SessionLifetime", "00:00:03"));
        var page = await world.SignedIn(ConsoleWorld.AuditorKey, host: host);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        await Task.Delay(TimeSpan.FromSeconds(4));

        await page.GotoAsync("/console/deliveries");
        await Expect(page).ToHaveURLAsync(SignInUrl());
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Your session ended");
        // Signing in again lands where the person was going.
        await page.GetByLabel("API key").FillAsync(ConsoleWorld.AuditorKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/deliveries$"));
    }

    [Fact]
    public async Task a_sign_in_from_one_host_is_honoured_by_another_of_the_same_deployment()
    {
        // The Data Protection keys that encrypt the cookie live in the database: any node of the cluster reads it.
        var page = await world.SignedIn(ConsoleWorld.AuditorKey);
        await using var other = await world.AnotherHost();
        var elsewhere = await world.WithSignInOf(page, other);
        await elsewhere.GotoAsync("/console/audit");
        await Expect(elsewhere.GetByRole(AriaRole.Heading, new() { Name = "Audit log" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task a_key_removed_from_the_configuration_ends_the_session_at_its_next_page()
    {
        // Signed in on a host that knows the key; the same cookie on a host that does not (as after a redeploy
        // without that key) gets no further than the sign-in page.
        await using var knowing = await world.AnotherHost(("Webhooks__Auth__ApiKeys__temp__Key", "console-temporary-key-0123456789"),
            ("Webhooks__Auth__ApiKeys__temp__Roles__0", "auditor"));
        var page = await world.SignedIn("console-temporary-key-0123456789", host: knowing);
        var elsewhere = await world.WithSignInOf(page);
        await elsewhere.GotoAsync("/console/deliveries");
        await Expect(elsewhere).ToHaveURLAsync(SignInUrl());
        await Expect(elsewhere.GetByRole(AriaRole.Status)).ToContainTextAsync("Your session ended");
    }

    [Fact]
    public async Task an_api_that_does_not_answer_is_a_page_in_words()
    {
        await using var cut = await world.AnotherHost(("Webhooks__Console__ApiBaseUrl", "http://127.0.0.1:9"));
        var page = await world.NewPage(host: cut);
        await page.GotoAsync("/console/sign-in");
        await page.GetByLabel("API key").FillAsync(ConsoleWorld.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "The API did not answer" })).ToBeVisibleAsync();
        var text = await page.Locator("main").InnerTextAsync();
        text.ShouldNotContain("Exception");
        text.ShouldNotContain("{");
        await ConsoleWorld.ShouldBeAccessible(page);
        await ConsoleWorld.Shot(page, "01-api-unreachable");
    }

    [GeneratedRegex("/console/sign-in")]
    private static partial Regex SignInUrl();
}
