using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Webhooks.Dispatch.Routing;

/// <summary>
/// Loads the catalog when the node starts, then follows the other nodes' changes: LISTEN on the catalog channel, and
/// reload the entry each notification names. After a lost connection it reconnects and reloads everything, since
/// notifications sent meanwhile are gone.
/// </summary>
public sealed partial class CatalogListener(
    IDocumentStore store, NpgsqlDataSource dataSource, DispatchCatalog catalog, ILogger<CatalogListener> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the host answers its first request, so no publish runs against an empty catalog.
        await ReloadAll(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var firstRound = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => _ = Reload(e.Payload, stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {CatalogHandler.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                if (!firstRound)
                {
                    await ReloadAll(stoppingToken);
                }

                firstRound = false;
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                firstRound = false;
                LogListenFailed(e);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Loads every entry from the database, and forgets those it no longer holds.</summary>
    public async Task ReloadAll(CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        var sources = await session.Query<SourceRecord>().ToListAsync(cancellation);
        var routes = await session.Query<RouteRecord>().ToListAsync(cancellation);
        catalog.Retain(routes.Select(r => r.Id).ToHashSet(), sources.Select(s => (s.EventSource.Application, s.EventSource.Name)).ToHashSet());
        foreach (var source in sources)
        {
            catalog.Apply(source.EventSource);
        }

        foreach (var route in routes)
        {
            Apply(route);
        }

        LogLoaded(catalog.RouteCount);
    }

    private async Task Reload(string payload, CancellationToken cancellation)
    {
        try
        {
            await using var session = store.QuerySession();
            if (payload.Length >= 42 && payload.StartsWith("route:", StringComparison.Ordinal) && Guid.TryParse(payload.AsSpan(6, 36), out var id))
            {
                if (payload.Length > 43 && long.TryParse(payload.AsSpan(43), out var version) && catalog.Knows(id, version))
                {
                    return;
                }

                if (await session.LoadAsync<RouteRecord>(id, cancellation) is { } route)
                {
                    Apply(route);
                }
            }
            else if (payload.StartsWith("source:", StringComparison.Ordinal)
                     && await session.LoadAsync<SourceRecord>(payload[7..], cancellation) is { } source)
            {
                catalog.Apply(source.EventSource);
            }
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or InvalidOperationException)
        {
            LogReloadFailed(payload, e);
        }
    }

    private void Apply(RouteRecord route)
    {
        if (route.Removed || route.Definition is null)
        {
            catalog.Remove(route.Id, route.Version);
        }
        else
        {
            catalog.Apply(route.Definition);
        }
    }

    [LoggerMessage(LogLevel.Information, "Dispatch catalog loaded: {Routes} webhooks")]
    private partial void LogLoaded(int routes);

    [LoggerMessage(LogLevel.Warning, "Listening for catalog changes failed; reconnecting")]
    private partial void LogListenFailed(Exception exception);

    [LoggerMessage(LogLevel.Warning, "Reloading catalog entry {Payload} failed")]
    private partial void LogReloadFailed(string payload, Exception exception);
}
