using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Flow;
using Webhooks.Dispatch.Routing;

namespace Webhooks.Dispatch.Operations;

/// <summary>
/// The gauges of the delivery pipeline (issue 16), read when the metrics are collected (a scrape, an OTLP export):
/// deliveries waiting on this node, deliveries scheduled in the database (retries, and those that stepped aside or wait
/// for a breaker's probe; counted at most every 5 seconds, in the background, and only while someone collects), and the
/// webhooks by breaker state. Nothing is read when nobody collects.
/// </summary>
public sealed class DispatchGauges(
    DeliveryQueueDepth queue, DispatchCatalog catalog, NpgsqlDataSource database, TimeProvider time, IMeterFactory meters) : IHostedService
{
    private static readonly TimeSpan ScheduledFreshness = TimeSpan.FromSeconds(5);
    private long scheduled;
    private long scheduledAt;
    private int counting;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A meter of this host's (disposed with it, and its callbacks with it), named as the static one the counters use.
        var meter = meters.Create(Telemetry.Name);
        meter.CreateObservableUpDownCounter(
            "webhooks.deliveries.pending", () => (long)queue.Count, "{delivery}",
            "Deliveries this node holds to make now (its in-memory backlog; MaxBacklog refuses publishes past it).");
        meter.CreateObservableUpDownCounter(
            "webhooks.deliveries.scheduled", Scheduled, "{message}",
            "Delivery messages scheduled in the database (the whole cluster's: every host reports the same; take the max, not the sum): " +
            "retries, deliveries waiting for room at their target or a breaker's probe.");
        meter.CreateObservableUpDownCounter(
            "webhooks.breakers", Breakers, "{webhook}", "Webhooks by the state of their circuit breaker (closed, open, halfOpen).");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<int>> Breakers()
    {
        var now = time.GetUtcNow();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [BreakerStates.Closed] = 0, [BreakerStates.Open] = 0, [BreakerStates.HalfOpen] = 0,
        };
        foreach (var webhook in catalog.Webhooks)
        {
            var state = (webhook.Health ?? WebhookHealth.Closed).At(now).Breaker;
            counts[state] = counts.GetValueOrDefault(state) + 1;
        }

        return counts.Select(c => new Measurement<int>(c.Value, new KeyValuePair<string, object?>("state", c.Key)));
    }

    /// <summary>The last count, refreshed in the background when older than 5 seconds (a collection never waits on the database).</summary>
    private long Scheduled()
    {
        var now = time.GetTimestamp();
        var at = Interlocked.Read(ref scheduledAt);
        if ((at == 0 || time.GetElapsedTime(at, now) > ScheduledFreshness) && Interlocked.Exchange(ref counting, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await using var command = database.CreateCommand(
                        "select count(*) from wolverine.wolverine_incoming_envelopes where status = 'Scheduled'");
                    Interlocked.Exchange(ref scheduled, (long)(await command.ExecuteScalarAsync())!);
                    Interlocked.Exchange(ref scheduledAt, time.GetTimestamp());
                }
                catch (Exception failure) when (failure is NpgsqlException or TimeoutException or InvalidOperationException or ObjectDisposedException)
                {
                    // The database is away: the gauge keeps its last count; health checks say the rest.
                }
                finally
                {
                    Interlocked.Exchange(ref counting, 0);
                }
            });
        }

        return Interlocked.Read(ref scheduled);
    }
}
