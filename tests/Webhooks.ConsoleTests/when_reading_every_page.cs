using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.ConsoleTests;

/// <summary>
/// Every page, as each role that may open it, at a desktop's width and a phone's: it answers 200, nothing spills
/// sideways, axe-core finds no serious or critical violation, the browser logs no error (the CSP refuses nothing),
/// the keyboard reaches the content, and a screenshot is saved.
/// </summary>
[Collection(InTheBrowser.Name)]
public sealed class when_reading_every_page(ConsoleWorld world)
{
    [Theory]
    [InlineData(1280)]
    [InlineData(390)]
    public async Task every_page_works_at_this_width(int width)
    {
        var (admin, keysafe) = await Seed();
        var errors = new List<string>();
        foreach (var (key, role) in new[] { (ConsoleWorld.AdminKey, "admin"), (ConsoleWorld.KeySafeKey, "keysafe") })
        {
            var page = await world.SignedIn(key, width);
            page.Console += (_, message) =>
            {
                if (message.Type == "error")
                {
                    errors.Add($"{page.Url}: {message.Text}");
                }
            };
            foreach (var (name, path) in role == "admin" ? admin : keysafe)
            {
                var response = await page.GotoAsync(path);
                response!.Status.ShouldBe(200, $"{role} {path}");
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
                var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
                if (overflow > 0)
                {
                    var wide = await page.EvaluateAsync<string[]>("""
                        [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                          .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)
                        """);
                    overflow.ShouldBeLessThanOrEqualTo(0, $"{path} is wider than {width} px: {string.Join(", ", wide)}");
                }
                await ConsoleWorld.ShouldBeAccessible(page);
                await ConsoleWorld.Shot(page, $"{name}-{width}");
            }
        }

        errors.ShouldBeEmpty();
    }

    [Fact]
    public async Task the_keyboard_skips_to_the_content_and_reaches_every_control_in_order()
    {
        var (admin, _) = await Seed();
        var page = await world.SignedIn(ConsoleWorld.AdminKey);
        await page.GotoAsync(admin.Single(p => p.Name == "02-webhooks").Path);
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Skip to content" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.Keyboard.PressAsync("Tab");
        // Past the skip link the next stop is the page's own first control, not the navigation.
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "New webhook" })).ToBeFocusedAsync();

        // Every control on the page is a tab stop: none is hidden from the keyboard.
        var unreachable = await page.EvaluateAsync<string[]>("""
            [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [role=switch]')]
              .filter(e => !e.disabled && e.tabIndex < 0)
              .map(e => e.outerHTML.slice(0, 80))
            """);
        unreachable.ShouldBeEmpty();
    }

    private static int seeds;

    /// <summary>Something on every page, and the pages by name for each role.</summary>
    private async Task<(List<(string Name, string Path)> Admin, List<(string Name, string Path)> KeySafe)> Seed()
    {
        await using var receiver = await Receiver.Start();
        receiver.Respond = async (context, number) =>
        {
            context.Response.StatusCode = number % 4 == 0 ? 500 : 200;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"received":true}""");
        };
        // An event source of this seed's own: the world is shared by the widths, and a publish that reached an earlier
        // seed's webhook before this one's was known to the publisher would count as delivered and never reach this receiver.
        var source = $"contactUpdated{Interlocked.Increment(ref seeds)}";
        await world.Admin.RegisterEventSource("crm", source, new RegisterEventSource("Contact", "h_sys_contacts", "updated",
            "A contact changed", JsonNode.Parse("""{"h_pk_id":"103","h_name":"Gary","h_email":"g@example.com"}""")!.AsObject()));
        var key = await world.KeySafe.CreateKey(new CreateKey($"tour key {Guid.NewGuid():N}"[..20], KeyTypes.HttpBasic, "For the tour", "tour", "tour-pass"));
        var name = $"tour-{Guid.NewGuid():N}"[..13];
        await world.Admin.DefineWebhook(new DefineWebhook(name, "Keeps the tour's CRM in step", "crm", source, true, key.Id,
            receiver.Url.ToString(), "json", "async", "h_name NOT NULL"));
        var published = await world.Publish("crm", source, new { h_pk_id = "103", h_name = "Gary" });
        for (var i = 0; i < 5; i++)
        {
            await world.Publish("crm", source, new { h_pk_id = $"10{i}", h_name = "Ann" });
        }

        await receiver.WaitFor(6);
        var bin = await world.Admin.CreateBin();
        using (var http = new HttpClient())
        {
            await http.PostAsync(bin.CaptureUrl, new StringContent("""{"hello":"bin"}""", System.Text.Encoding.UTF8, "application/json"));
        }

        var delivery = published.Deliveries[0].Id;
        List<(string, string)> admin =
        [
            ("10-overview", "/console"),
            ("02-webhooks", "/console/webhooks"),
            ("03-webhook-new", "/console/webhooks/new"),
            ("04-webhook", $"/console/webhooks/{name}"),
            ("03-webhook-edit", $"/console/webhooks/{name}/edit"),
            ("05-deliveries-list", "/console/deliveries"),
            ("05-delivery-page", $"/console/deliveries/{delivery}"),
            ("06-event", $"/console/events/{published.EventId}"),
            ("08-keysafe-as-admin", "/console/keysafe"),
            ("07-bins", "/console/bins"),
            ("07-bin-page", $"/console/bins/{bin.Id}"),
            ("09-catalog", "/console/catalog?application=crm"),
            ("11-audit", "/console/audit"),
        ];
        List<(string, string)> keysafe =
        [
            ("08-keysafe", "/console/keysafe"),
            ("08-keysafe-new-key", "/console/keysafe/new"),
            ("08-keysafe-key", $"/console/keysafe/{key.Id}"),
        ];
        return (admin, keysafe);
    }
}
