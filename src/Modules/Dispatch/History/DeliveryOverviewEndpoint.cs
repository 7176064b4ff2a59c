using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using NpgsqlTypes;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Routing;
using Wolverine.Http;

namespace Webhooks.Dispatch.History;

public static class DeliveryOverviewEndpoint
{
    public const int Buckets = 24;

    public static ProblemDetails Validate(DateTimeOffset? from, DateTimeOffset? to) => new FieldErrors()
        .Check(from is null || to is null || from < to, "from", "The window's start must be before its end.")
        .Check(from is null || to is null || to - from <= TimeSpan.FromDays(366), "from", "The window may be at most a year.")
        .ToProblem();

    /// <summary>
    /// Every webhook's deliveries created in [from, to) (by default the 24 whole hours ending with the current one): counts by status, the retrying,
    /// the success rate, the latency of each delivery's latest call, the window in 24 buckets, and the webhooks failing
    /// most.
    /// </summary>
    [WolverineGet("/stats", OperationId = "GetDeliveryOverview")]
    [Authorize(Roles = $"{Roles.Auditor},{Roles.Admin}")]
    [Tags("Deliveries")]
    public static async Task<DeliveryOverview> Get(
        DateTimeOffset? from, DateTimeOffset? to, IDocumentStore store, NpgsqlDataSource database, TimeProvider time,
        DispatchCatalog catalog, CancellationToken cancellation)
    {
        var (start, end, bucket) = Window(from, to, time);
        var table = $"{store.Options.DatabaseSchemaName}.mt_doc_deliverylog";
        await using var batch = database.CreateBatch();
        // One pass over the window's rows for the counts, by bucket and webhook (columns only, never the JSON), and the
        // totals, the series and the failing webhooks summed from it; the latency percentiles from (created_at,
        // duration_ms), which an index holds.
        batch.BatchCommands.Add(Command($"""
            select date_bin($3, created_at, $1), webhook_id,
                   count(*) filter (where status = 'succeeded'), count(*) filter (where status = 'failed'),
                   count(*) filter (where status = 'pending'), count(*) filter (where status = 'pending' and next_attempt_at is not null),
                   count(*) filter (where status = 'skipped')
            from {table} where created_at >= $1 and created_at < $2 group by 1, 2
            """, start, end, bucket));
        batch.BatchCommands.Add(Command($"""
            select percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms)
            from {table} where created_at >= $1 and created_at < $2 and duration_ms is not null
            """, start, end));

        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        var counted = new Dictionary<DateTimeOffset, StatsBucket>();
        var byWebhook = new Dictionary<Guid, (int Failed, int Total)>();
        var (pending, retrying, succeeded, failed, skipped) = (0, 0, 0, 0, 0);
        while (await reader.ReadAsync(cancellation))
        {
            var at = reader.GetFieldValue<DateTimeOffset>(0);
            var webhook = reader.GetGuid(1);
            var (s, f, p, r, k) = ((int)reader.GetInt64(2), (int)reader.GetInt64(3), (int)reader.GetInt64(4), (int)reader.GetInt64(5), (int)reader.GetInt64(6));
            var bucketSoFar = counted.GetValueOrDefault(at) ?? new StatsBucket(at, 0, 0, 0);
            counted[at] = bucketSoFar with { Succeeded = bucketSoFar.Succeeded + s, Failed = bucketSoFar.Failed + f, Pending = bucketSoFar.Pending + p };
            var soFar = byWebhook.GetValueOrDefault(webhook);
            byWebhook[webhook] = (soFar.Failed + f, soFar.Total + s + f + p + k);
            (pending, retrying, succeeded, failed, skipped) = (pending + p, retrying + r, succeeded + s, failed + f, skipped + k);
        }

        await reader.NextResultAsync(cancellation);
        await reader.ReadAsync(cancellation);
        var percentiles = reader.IsDBNull(0) ? null : reader.GetFieldValue<double[]>(0);
        await reader.CloseAsync();

        var failing = await FailingMost(byWebhook, catalog, table, database, cancellation);

        return new DeliveryOverview(
            start, end, pending, retrying, succeeded, failed, skipped,
            succeeded + failed == 0 ? null : (double)succeeded / (succeeded + failed),
            percentiles?[0], percentiles?[1], percentiles?[2], Series(counted, start, bucket), failing);
    }

    /// <summary>
    /// The window (by default the 24 whole hours ending with the current one) in whole seconds, and its buckets' size, a whole number of seconds:
    /// PostgreSQL keeps microseconds, .NET ticks, and the buckets it returns must be found again by their start.
    /// </summary>
    public static (DateTimeOffset Start, DateTimeOffset End, TimeSpan Bucket) Window(DateTimeOffset? from, DateTimeOffset? to, TimeProvider time)
    {
        static DateTimeOffset Seconds(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        static DateTimeOffset NextHour(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerHour) + TimeSpan.TicksPerHour, TimeSpan.Zero);
        // Unless given, the 24 whole hours ending with the current one: buckets that start on the hour read well.
        var end = to is { } until ? Seconds(until) : from is null ? NextHour(time.GetUtcNow()) : Seconds(time.GetUtcNow().AddSeconds(1));
        var start = Seconds(from ?? end.AddDays(-1));
        return (start, end, TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((end - start).TotalSeconds / Buckets))));
    }

    /// <summary>
    /// The five webhooks with the most failed deliveries, most first, by name: names from the catalog, or for a webhook
    /// deleted since, from one of its deliveries.
    /// </summary>
    private static async Task<IReadOnlyList<FailingWebhook>> FailingMost(
        Dictionary<Guid, (int Failed, int Total)> byWebhook, DispatchCatalog catalog, string table, NpgsqlDataSource database,
        CancellationToken cancellation)
    {
        var failing = byWebhook.Where(w => w.Value.Failed > 0).ToList();
        var names = failing.Select(w => (w.Key, catalog.Find(w.Key)?.Definition.Name)).Where(n => n.Name is not null)
            .ToDictionary(n => n.Key, n => n.Name!);
        var deleted = failing.Select(w => w.Key).Where(id => !names.ContainsKey(id)).ToArray();
        if (deleted.Length > 0)
        {
            await using var command = database.CreateCommand(
                $"select distinct on (webhook_id) webhook_id, data ->> 'webhook' from {table} where webhook_id = any($1) order by webhook_id, id desc");
            command.Parameters.Add(new NpgsqlParameter { Value = deleted, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid });
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                names[reader.GetGuid(0)] = reader.GetString(1);
            }
        }

        return failing
            .Select(w => new FailingWebhook(names.GetValueOrDefault(w.Key) ?? w.Key.ToString(), w.Value.Failed, w.Value.Total))
            .OrderByDescending(w => w.Failed).ThenBy(w => w.Webhook, StringComparer.Ordinal)
            .Take(5)
            .ToList();
    }

    /// <summary>Every bucket of the window, empty ones included, so a chart has no gaps.</summary>
    public static IReadOnlyList<StatsBucket> Series(IReadOnlyDictionary<DateTimeOffset, StatsBucket> counted, DateTimeOffset start, TimeSpan bucket) =>
        Enumerable.Range(0, Buckets)
            .Select(i => start + (bucket * i))
            .Select(at => counted.TryGetValue(at, out var found) ? found : new StatsBucket(at, 0, 0, 0))
            .ToList();

    public static NpgsqlBatchCommand Command(string sql, DateTimeOffset from, DateTimeOffset to, TimeSpan? bucket = null)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = from, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        if (bucket is { } size)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = size, NpgsqlDbType = NpgsqlDbType.Interval });
        }

        return command;
    }
}
