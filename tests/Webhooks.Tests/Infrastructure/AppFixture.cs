using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Webhooks.Client;
using Wolverine;

namespace Webhooks.Tests.Infrastructure;

/// <summary>One host for the whole integration suite, on the test database; data is reset before every test.</summary>
public sealed class AppFixture : IAsyncLifetime
{
    /// <summary>The KeySafe master key the shared test host encrypts with (base64 of 32 bytes).</summary>
    public const string MasterKeyId = "test-a";
    public static readonly string MasterKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public IAlbaHost Host { get; private set; } = null!;

    /// <summary>Receivers run on loopback, which the SSRF guard refuses unless allowed; retries come quickly.</summary>
    public static readonly IReadOnlyDictionary<string, string> DispatchSettings = new Dictionary<string, string>
    {
        ["Webhooks:Dispatch:AllowedNetworks:0"] = "127.0.0.0/8",
        ["Webhooks:Dispatch:AllowedNetworks:1"] = "::1/128",
        ["Webhooks:Dispatch:RetrySchedule:0"] = "00:00:00.050",
        ["Webhooks:Dispatch:RetrySchedule:1"] = "00:00:00.100",
        ["Webhooks:Dispatch:RetrySchedule:2"] = "00:00:00.150",
        ["Webhooks:Dispatch:SyncTimeout"] = "00:00:01",
        ["Webhooks:Dispatch:AsyncTimeout"] = "00:00:01",
        ["Webhooks:Dispatch:MaxEventBytes"] = "16384",
        ["Webhooks:Dispatch:SchedulePollingInterval"] = "00:00:00.100",
        // Tests that make many failed attempts on purpose must not see deliveries wait for a breaker; its own tests set it.
        ["Webhooks:Dispatch:Breaker:FailureThreshold"] = "100000",
        // TLS receivers present a certificate of the run's own authority.
        ["Webhooks:Dispatch:TrustedCertificateAuthorities"] = TestCertificates.AuthorityPemPath,
        // Above what the bin tests send at once (106), below what the rate-limit test sends.
        ["Webhooks:Bins:CapturesPerSecond"] = "60",
    };

    public CapturedLogs Logs { get; } = new();

    public async Task InitializeAsync()
    {
        Host = await StartHost(new Dictionary<string, string> { [$"Webhooks:KeySafe:MasterKeys:{MasterKeyId}"] = MasterKey }, Logs);
    }

    /// <summary>
    /// The settings of a host on a database of its own (a new, empty one on the test cluster) with the shared master key:
    /// for hosts that must not share the shared host's database; several hosts may be started on the same settings.
    /// </summary>
    public static async Task<Dictionary<string, string>> OwnDatabase(string purpose) => new()
    {
        ["ConnectionStrings:Webhooks"] = await TestDatabase.Fresh(purpose),
        [$"Webhooks:KeySafe:MasterKeys:{MasterKeyId}"] = MasterKey,
    };

    /// <summary>A host on the test database with the test keys and these extra settings; tests may start more than one.</summary>
    public static async Task<IAlbaHost> StartHost(
        IDictionary<string, string> settings, CapturedLogs? logs = null, Action<IServiceCollection>? configure = null)
    {
        var connection = TestDatabase.ConnectionString;
        return await AlbaHost.For<Program>(web =>
        {
            web.UseSetting("ConnectionStrings:Webhooks", connection);
            foreach (var (key, value) in TestKeys.Settings().Concat(DispatchSettings).Concat(settings))
            {
                web.UseSetting(key, value);
            }

            web.ConfigureServices(services =>
            {
                services.RunWolverineInSoloMode();
                // No test looks up an outside name (the network rule): names resolve from TestNames or not at all.
                services.AddSingleton(TestNames.Resolver);
                services.DisableAllExternalWolverineTransports();
                if (logs is not null)
                {
                    services.AddSingleton<ILoggerProvider>(logs);
                    services.AddLogging(logging => logging.AddFilter<CapturedLogs>(null, LogLevel.Trace));
                }
            });
            if (configure is not null)
            {
                web.ConfigureServices(configure);
            }
        });
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();

    /// <summary>The SDK, talking to the in-memory test server with the given key.</summary>
    public IWebhooksApi Client(string apiKey) => WebhooksClient.Create(Host.Server.CreateClient(), apiKey);
}

[CollectionDefinition(Name)]
public sealed class SharedHost : ICollectionFixture<AppFixture>
{
    public const string Name = "app";
}

/// <summary>Base of integration tests: a clean database before each test.</summary>
[Collection(SharedHost.Name)]
public abstract class AppTest(AppFixture fixture) : IAsyncLifetime
{
    protected IAlbaHost Host => fixture.Host;

    protected AppFixture Fixture => fixture;

    public virtual async Task InitializeAsync()
    {
        await Host.ResetAllMartenDataAsync();
        // Dispatch's in-memory catalog mirrors the database, which was just wiped: a full reload forgets it all.
        await Host.Services.GetRequiredService<Webhooks.Dispatch.Routing.CatalogListener>().ReloadAll(CancellationToken.None);
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>Base of dispatch tests: the catalog's event source known to Dispatch, and a fresh receiver on loopback.</summary>
public abstract class ReceiverTest(AppFixture fixture) : AppTest(fixture)
{
    protected Receiver Receiver { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.DispatchCatalog();
        Receiver = await Receiver.Start();
    }

    public override async Task DisposeAsync() => await Receiver.DisposeAsync();
}
