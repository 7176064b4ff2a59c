using System.Net;
using System.Net.Http.Json;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

/// <summary>The service as users run it: its own process on the embedded PostgreSQL, started and stopped by signals.</summary>
public sealed class when_running_the_host_process : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The longest a stop may take by the host's own bounds: 30 s for the hosted services (the default shutdown timeout),
    /// then up to 60 s for PostgreSQL's own stop (pg_ctl -t 60), with a margin.
    /// </summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(120);
    private readonly string directory = Repository.TempDirectory("host-process");

    [Fact]
    public async Task the_catalog_survives_a_restart_and_no_postgres_process_is_left_behind()
    {
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Webhooks__EmbeddedPostgres__DataDirectory"] = Path.Combine(directory, "pg"),
            // Each stage of a stop in the output a timeout prints.
            ["Logging__LogLevel__Microsoft.Extensions.Hosting"] = "Debug",
            ["Logging__LogLevel__Wolverine"] = "Information",
            ["Logging__LogLevel__Marten"] = "Information",
            ["Logging__LogLevel__JasperFx"] = "Information",
        };

        int serverPid;
        await using (var first = HostProcess.Start(directory, settings))
        {
            await first.WaitUntilReady(StartTimeout);
            first.Output.ShouldContain("dev-admin-key");
            first.Output.ShouldContain(first.Address.ToString().TrimEnd('/'));
            // A quiet start (issue 16): no JasperFx command discovery, no SQL; where it listens comes first among the
            // host's own lines, with where the console and API reference are.
            first.Output.ShouldNotContain("for commands");
            first.Output.ShouldNotContain("Npgsql.Command");
            first.Output.ShouldContain("the console at /console, the API reference at /scalar/v1");
            first.Output.IndexOf("Webhooks is listening", StringComparison.Ordinal)
                .ShouldBeLessThan(first.Output.IndexOf("Development API key", StringComparison.Ordinal));
            serverPid = PostmasterPid();

            var client = WebhooksClient.Create(first.Address, "dev-admin-key");
            await client.RegisterEventSource("crm", "contact-update", new RegisterEventSource("Contact", null, EntityEvents.Update));

            (await first.Signal("INT", StopTimeout)).ShouldBe(0, first.Output);
        }

        HostProcess.IsAlive(serverPid).ShouldBeFalse("Ctrl-C must stop the embedded PostgreSQL too");

        await using var second = HostProcess.Start(directory, settings);
        await second.WaitUntilReady(StartTimeout);
        var sources = await WebhooksClient.Create(second.Address, "dev-admin-key").ListEventSources("crm");
        sources.Items.Single().Name.ShouldBe("contact-update");

        serverPid = PostmasterPid();
        (await second.Signal("TERM", StopTimeout)).ShouldBe(0, second.Output);
        HostProcess.IsAlive(serverPid).ShouldBeFalse("SIGTERM must stop the embedded PostgreSQL too");
    }

    [Fact]
    public async Task outside_development_without_keys_it_refuses_to_start_and_says_why()
    {
        await using var host = HostProcess.Start(directory, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Webhooks__EmbeddedPostgres__DataDirectory"] = Path.Combine(directory, "pg"),
        });

        (await host.WaitForExit(TimeSpan.FromSeconds(60))).ShouldBe(1);
        host.Output.ShouldContain("No API keys are configured");
        host.Output.ShouldNotContain("   at "); // a message, not a stack trace
        Directory.Exists(Path.Combine(directory, "pg")).ShouldBeFalse("nothing is started for a host that cannot serve");
    }

    [Fact]
    public async Task with_an_option_out_of_range_it_refuses_to_start_in_one_line()
    {
        // Options bound with ValidateOnStart are checked before anything starts, and said as a message.
        await using var host = HostProcess.Start(directory, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Webhooks__EmbeddedPostgres__DataDirectory"] = Path.Combine(directory, "pg"),
            ["Webhooks__Bins__Lifetime"] = "-01:00:00",
        });

        (await host.WaitForExit(TimeSpan.FromSeconds(60))).ShouldBe(1);
        host.Output.ShouldContain("Webhooks cannot start: Webhooks:Bins:Lifetime must be positive.");
        host.Output.ShouldNotContain("   at ");
    }

    [Theory]
    [InlineData("Webhooks__Telemetry__TraceSampleRatio", "1.5", "Webhooks cannot start: Webhooks:Telemetry:TraceSampleRatio must be between 0 and 1")]
    [InlineData("Webhooks__Telemetry__Metrics__AllowedNetworks__0", "10.0.0.0/33",
        "Webhooks cannot start: Webhooks:Telemetry:Metrics:AllowedNetworks: '10.0.0.0/33' is not a network in CIDR notation")]
    public async Task with_a_telemetry_setting_out_of_range_it_refuses_to_start_in_one_line(string key, string value, string message)
    {
        await using var host = HostProcess.Start(directory, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Webhooks__EmbeddedPostgres__DataDirectory"] = Path.Combine(directory, "pg"),
            [key] = value,
        });

        (await host.WaitForExit(TimeSpan.FromSeconds(60))).ShouldBe(1);
        host.Output.ShouldContain(message);
        host.Output.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task without_postgres_binaries_it_says_how_to_fix_it()
    {
        await using var host = HostProcess.Start(directory, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Webhooks__EmbeddedPostgres__DataDirectory"] = Path.Combine(directory, "pg"),
            ["Webhooks__EmbeddedPostgres__BinDirectory"] = Path.Combine(directory, "no-binaries-here"),
        });

        (await host.WaitForExit(TimeSpan.FromSeconds(60))).ShouldBe(1);
        host.Output.ShouldContain("holds no initdb and pg_ctl");
    }

    [Fact]
    public async Task with_a_connection_string_it_uses_that_database_and_starts_nothing()
    {
        await using var host = HostProcess.Start(directory, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Webhooks"] = await TestDatabase.Fresh("process"),
            ["Webhooks__EmbeddedPostgres__DataDirectory"] = Path.Combine(directory, "pg"),
            ["Webhooks__Auth__ApiKeys__ops__Key"] = "ops-secret-for-this-test",
            ["Webhooks__Auth__ApiKeys__ops__Roles__0"] = "auditor",
            ["Webhooks__KeySafe__MasterKeys__prod"] = AppFixture.MasterKey,
            // Issue 16: JSON log lines, and Prometheus scraping from the local network without a key.
            ["Webhooks__Logging__Json"] = "true",
            ["Webhooks__Telemetry__Metrics__AllowedNetworks__0"] = "127.0.0.0/8",
        });

        await host.WaitUntilReady(StartTimeout);
        Directory.Exists(Path.Combine(directory, "pg")).ShouldBeFalse();
        var logLines = host.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        logLines.ShouldNotBeEmpty();
        var listening = logLines.Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)
            .Single(log => log.GetProperty("Message").GetString()!.StartsWith("Webhooks is listening", StringComparison.Ordinal));
        listening.GetProperty("Category").GetString().ShouldBe("Webhooks");
        listening.GetProperty("LogLevel").GetString().ShouldBe("Information");
        using (var scraper = new HttpClient { BaseAddress = host.Address })
        {
            var scrape = await scraper.GetAsync("/metrics");
            scrape.StatusCode.ShouldBe(HttpStatusCode.OK, "127.0.0.1 is in the allowed networks");
            (await scrape.Content.ReadAsStringAsync()).ShouldContain("# TYPE");
        }

        using var http = new HttpClient { BaseAddress = host.Address };
        http.DefaultRequestHeaders.Authorization = new("Bearer", "ops-secret-for-this-test");
        (await http.GetAsync("/applications")).StatusCode.ShouldBe(HttpStatusCode.OK);
        http.DefaultRequestHeaders.Authorization = new("Bearer", "dev-admin-key");
        (await http.GetAsync("/applications")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await host.Signal("TERM", StopTimeout)).ShouldBe(0, host.Output);
    }

    public void Dispose() => TestDatabase.TryDelete(directory);

    private int PostmasterPid() =>
        int.Parse(File.ReadLines(Path.Combine(directory, "pg", "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
}
