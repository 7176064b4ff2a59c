using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Client;
using Wolverine;

namespace Webhooks.Tests.Infrastructure;

/// <summary>One host for the whole integration suite, on the test database; data is reset before every test.</summary>
public sealed class AppFixture : IAsyncLifetime
{
    public IAlbaHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var connection = TestDatabase.ConnectionString;
        Host = await AlbaHost.For<Program>(web =>
        {
            web.UseSetting("ConnectionStrings:Webhooks", connection);
            foreach (var (key, value) in TestKeys.Settings())
            {
                web.UseSetting(key, value);
            }

            web.ConfigureServices(services =>
            {
                services.RunWolverineInSoloMode();
                services.DisableAllExternalWolverineTransports();
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
