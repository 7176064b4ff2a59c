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

    public CapturedLogs Logs { get; } = new();

    public async Task InitializeAsync()
    {
        Host = await StartHost(new Dictionary<string, string> { [$"Webhooks:KeySafe:MasterKeys:{MasterKeyId}"] = MasterKey }, Logs);
    }

    /// <summary>A host on the test database with the test keys and these extra settings; tests may start more than one.</summary>
    public static async Task<IAlbaHost> StartHost(IDictionary<string, string> settings, CapturedLogs? logs = null)
    {
        var connection = TestDatabase.ConnectionString;
        return await AlbaHost.For<Program>(web =>
        {
            web.UseSetting("ConnectionStrings:Webhooks", connection);
            foreach (var (key, value) in TestKeys.Settings().Concat(settings))
            {
                web.UseSetting(key, value);
            }

            web.ConfigureServices(services =>
            {
                services.RunWolverineInSoloMode();
                services.DisableAllExternalWolverineTransports();
                if (logs is not null)
                {
                    services.AddSingleton<ILoggerProvider>(logs);
                    services.AddLogging(logging => logging.AddFilter<CapturedLogs>(null, LogLevel.Trace));
                }
            });
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

    public virtual async Task InitializeAsync() => await Host.ResetAllMartenDataAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;
}
