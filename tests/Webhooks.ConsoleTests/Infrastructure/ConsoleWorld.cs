using System.Text.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Refit;
using Webhooks.Client;
using Webhooks.Dispatch.Contracts;
using Webhooks.Host.Postgres;
using Webhooks.Tests.Infrastructure;

// One host, one database and one browser for every console test, one test at a time (two cores).
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Webhooks.ConsoleTests.Infrastructure;

/// <summary>
/// The console's world: the real host as a process on a PostgreSQL cluster of its own, with a key for each role, and
/// Debian's Chromium driven by Playwright. Each test opens its own browser context (its own cookies) and signs in
/// the way a person does.
/// </summary>
public sealed class ConsoleWorld : IAsyncLifetime
{
    public const string AdminKey = "console-admin-key-0123456789";
    public const string AuditorKey = "console-auditor-key-0123456789";
    public const string KeySafeKey = "console-keysafe-key-0123456789";
    public const string PublisherKey = "console-publisher-key-0123456789";
    public const string ChromiumPath = "/usr/bin/chromium";

    private string directory = null!;
    private Dictionary<string, string> settings = null!;
    private EmbeddedPostgres postgres = null!;
    private IPlaywright playwright = null!;

    public HostProcess Host { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where the tests save their screenshots (the README's come from here, copied to docs/console).</summary>
    public static string Screenshots { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public IWebhooksApi Admin => WebhooksClient.Create(Host.Address, AdminKey);
    public IWebhooksApi Auditor => WebhooksClient.Create(Host.Address, AuditorKey);
    public IWebhooksApi KeySafe => WebhooksClient.Create(Host.Address, KeySafeKey);
    public IWebhooksApi Publisher => WebhooksClient.Create(Host.Address, PublisherKey);

    public async Task InitializeAsync()
    {
        File.Exists(ChromiumPath).ShouldBeTrue($"Debian's chromium package is needed at {ChromiumPath} (.ci/run installs it).");
        Directory.CreateDirectory(Screenshots);
        directory = Repository.TempDirectory("console");
        postgres = await Task.Run(() => EmbeddedPostgres.Start(Path.Combine(directory, "pg")));
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Webhooks"] = postgres.ConnectionString,
            ["Logging__LogLevel__Default"] = "Warning",
            ["Webhooks__KeySafe__MasterKeys__console"] = Convert.ToBase64String(new byte[32]),
            ["Webhooks__Dispatch__AllowedNetworks__0"] = "127.0.0.0/8",
            ["Webhooks__Dispatch__SchedulePollingInterval"] = "00:00:00.250",
            ["Webhooks__Dispatch__RetrySchedule__0"] = "00:00:00.500",
            ["Webhooks__Dispatch__RetrySchedule__1"] = "00:00:00.500",
        };
        foreach (var (name, key, roles) in new[]
                 {
                     ("admin", AdminKey, new[] { "admin" }), ("auditor", AuditorKey, ["auditor"]), ("keysafe", KeySafeKey, ["keysafe"]),
                     ("publisher", PublisherKey, ["publisher"]),
                 })
        {
            settings[$"Webhooks__Auth__ApiKeys__{name}__Key"] = key;
            for (var i = 0; i < roles.Length; i++)
            {
                settings[$"Webhooks__Auth__ApiKeys__{name}__Roles__{i}"] = roles[i];
            }
        }

        this.settings = settings;
        Host = HostProcess.Start(directory, settings);
        await Host.WaitUntilReady(TimeSpan.FromSeconds(90));

        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Chromium's own background traffic is refused by a closed network (and must not leave loopback anyway).
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        playwright?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        postgres?.Stop();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Publishes until the event reaches <paramref name="webhooks"/> webhooks (a definition reaches the publisher's
    /// index a moment after it is saved); answers the publish that did.
    /// </summary>
    public Task<PublishResponse> Publish(string application, string eventSource, object record, int webhooks = 1) =>
        Poll.Until(() => Publisher.PublishEvent(Event(application, eventSource, record)), answer => answer.Deliveries.Count >= webhooks,
            TimeSpan.FromSeconds(20), _ => $"the event never reached {webhooks} webhook(s) of {application}/{eventSource}", every: TimeSpan.FromMilliseconds(200));

    /// <summary>Publishes until a Synchronous Critical webhook vetoes the event (422); answers the event's id.</summary>
    public async Task<Guid> PublishVetoed(string application, string eventSource, object record) =>
        (await Poll.Until(
            async () =>
            {
                try
                {
                    await Publisher.PublishEvent(Event(application, eventSource, record));
                    return (Guid?)null;
                }
                catch (ApiException refused) when ((int)refused.StatusCode == 422)
                {
                    return JsonDocument.Parse(refused.Content!).RootElement.GetProperty("eventId").GetGuid();
                }
            },
            vetoed => vetoed is not null, TimeSpan.FromSeconds(20), _ => $"no webhook of {application}/{eventSource} vetoed the event",
            every: TimeSpan.FromMilliseconds(200)))!.Value;

    private static PublishEntityEvent Event(string application, string eventSource, object record) =>
        new(application, eventSource, "admin", "System Administrator", null, JsonSerializer.SerializeToElement(record));

    /// <summary>Another host on the same database, with these settings too (disposed by the caller).</summary>
    public async Task<HostProcess> AnotherHost(params (string Key, string Value)[] extra)
    {
        var more = new Dictionary<string, string>(settings);
        foreach (var (key, value) in extra)
        {
            more[key] = value;
        }

        var host = HostProcess.Start(directory, more);
        await host.WaitUntilReady(TimeSpan.FromSeconds(90));
        return host;
    }

    /// <summary>A browser of its own (no cookies), this wide; confirmations are accepted as a person clicking OK would.</summary>
    public async Task<IPage> NewPage(int width = 1280, HostProcess? host = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = (host ?? Host).Address.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = width < 600 ? 844 : 900 },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        return page;
    }

    /// <summary>Signs in through the sign-in page, by its labels, and waits for the first page.</summary>
    public async Task<IPage> SignedIn(string apiKey, int width = 1280, HostProcess? host = null)
    {
        var page = await NewPage(width, host);
        await page.GotoAsync("/console");
        await page.GetByLabel("API key").FillAsync(apiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/sign-in", StringComparison.Ordinal));
        return page;
    }

    /// <summary>A new browser on <paramref name="host"/> (this world's host by default) holding the sign-in of <paramref name="signedIn"/>.</summary>
    public async Task<IPage> WithSignInOf(IPage signedIn, HostProcess? host = null)
    {
        var page = await NewPage(host: host);
        await page.Context.AddCookiesAsync((await signedIn.Context.CookiesAsync()).Select(c => new Cookie
        {
            Name = c.Name,
            Value = c.Value,
            Domain = c.Domain,
            Path = c.Path,
            HttpOnly = c.HttpOnly,
            SameSite = c.SameSite,
        }));
        return page;
    }

    /// <summary>Saves the page as it looks (the whole page) under <see cref="Screenshots"/>.</summary>
    public static async Task Shot(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    /// <summary>Runs axe-core on the page: no serious or critical violation.</summary>
    public static async Task ShouldBeAccessible(IPage page)
    {
        var results = await page.RunAxe();
        var bad = results.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Impact}: {v.Id} ({v.Help}) at {string.Join("; ", v.Nodes.Select(n => n.Target?.ToString()))}")
            .ToList();
        bad.ShouldBeEmpty($"axe-core on {page.Url}");
    }
}

[CollectionDefinition(Name)]
public sealed class InTheBrowser : ICollectionFixture<ConsoleWorld>
{
    public const string Name = "console";
}
