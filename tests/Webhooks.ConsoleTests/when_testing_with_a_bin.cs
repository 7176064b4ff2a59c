using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Webhooks.ConsoleTests;

/// <summary>The seed's RequestBin round trip, without leaving the product: bin, webhook on it, Test, the request arriving.</summary>
[Collection(InTheBrowser.Name)]
public sealed class when_testing_with_a_bin(ConsoleWorld world)
{
    [Fact]
    public async Task a_bin_receives_the_test_call_of_a_webhook_made_from_it_and_shows_it_live()
    {
        await world.Admin.RegisterEventSource("helpdesk", "ticketRaised", new RegisterEventSource(
            "Ticket", "h_tickets", "created", "A ticket was raised",
            JsonNode.Parse("""{"h_pk_ref":"IN00001","h_summary":"Printer on fire","h_priority":"P1"}""")!.AsObject()));
        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GetByRole(AriaRole.Link, new() { Name = "Request bins" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create bin" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/bins/[0-9a-f-]{36}$"));
        var binPage = page.Url;
        var captureUrl = await page.Locator("#capture-url").InnerTextAsync();
        captureUrl.ShouldStartWith(world.Host.Address.ToString().TrimEnd('/') + "/bins/");
        await Expect(page.GetByText("Nothing yet")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Use for webhook…" }).ClickAsync();
        await Expect(page.GetByLabel("URL")).ToHaveValueAsync(captureUrl);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("ticket-to-bin");
        await page.GetByLabel("Application").SelectOptionAsync("helpdesk");
        await page.GetByLabel("Event Source").SelectOptionAsync("ticketRaised");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/webhooks/ticket-to-bin"));

        // The bin, open in another tab, while the webhook is tested in this one.
        var watcher = await page.Context.NewPageAsync();
        await watcher.GotoAsync(binPage);
        await Expect(watcher.GetByText("Nothing yet")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Test", Exact = true }).ClickAsync();
        await Expect(page.Locator("#test-result")).ToContainTextAsync("Test succeeded: the target answered 200");
        await ConsoleWorld.Shot(page, "04-webhook-tested");

        var captured = watcher.Locator("article.captured");
        await Expect(captured).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        await Expect(captured.Locator(".badge")).ToHaveTextAsync("POST");
        await Expect(captured.Locator("pre")).ToContainTextAsync("\"h_summary\": \"Printer on fire\"");
        await captured.GetByText("Headers").ClickAsync();
        await Expect(captured.Locator("tr", new() { HasText = "webhook-signature" })).ToContainTextAsync("[redacted]");
        await ConsoleWorld.ShouldBeAccessible(watcher);
        await ConsoleWorld.Shot(watcher, "07-bin");
    }

    [Fact]
    public async Task a_bin_shows_xml_pretty_and_bytes_as_base64_and_is_deleted_from_the_list()
    {
        var bin = await world.Admin.CreateBin();
        using var http = new HttpClient();
        await http.PostAsync(bin.CaptureUrl, new StringContent("<ticket><ref>IN2</ref><summary>Spilled coffee</summary></ticket>", System.Text.Encoding.UTF8, "application/xml"));
        await http.PutAsync(bin.CaptureUrl, new ByteArrayContent([0xff, 0xfe, 0x00, 0x01]));

        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync($"/console/bins/{bin.Id}");
        var captured = page.Locator("article.captured");
        await Expect(captured).ToHaveCountAsync(2);
        await Expect(captured.Nth(1).Locator("pre")).ToContainTextAsync("<ticket>\n  <ref>IN2</ref>");
        await Expect(captured.Nth(0)).ToContainTextAsync("Not UTF-8 text: shown as base64");
        await Expect(captured.Nth(0).Locator("pre")).ToHaveTextAsync("//4AAQ==");

        await page.GotoAsync("/console/bins");
        await page.Locator("tr", new() { HasText = bin.Id.ToString() }).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.Locator("tr", new() { HasText = bin.Id.ToString() })).ToHaveCountAsync(0);
        (await world.Admin.ListBins()).Items.ShouldNotContain(b => b.Id == bin.Id);
    }
}
