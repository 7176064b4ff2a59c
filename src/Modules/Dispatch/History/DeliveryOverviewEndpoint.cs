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
        // Columns only, never the JSON, all held by one index on created_at (index-only scans once vacuum has seen the
        // pages): the counts by bucket (the totals are their sums), the latency percentiles, and the webhooks with
        // the most failed deliveries with their totals.
        batch.BatchCommands.Add(Command($"""
            select date_bin($3, created_at, $1),
                   count(*) filter (where status = 'succeeded'), count(*) filter (where status = 'failed'),
                   count(*) filter (where status = 'pending'), count(*) filter (where status = 'pending' and next_attempt_at is not null),
                   count(*) filter (where status = 'skipped')
            from {table} where created_at >= $1 and created_at < $2 group by 1
            """, start, end, bucket));
        batch.BatchCommands.Add(Command($"""
            select percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms)
            from {table} where created_at >= $1 and created_at < $2 and duration_ms is not null
            """, start, end));
        batch.BatchCommands.Add(Command($"""
            with failing as (
              select webhook_id, count(*) as failed from {table}
              where created_at >= $1 and created_at < $2 and status = 'failed' group by 1 order by 2 desc limit 20)
            select f.webhook_id, f.failed,
                   (select count(*) from {table} t where t.webhook_id = f.webhook_id and t.created_at >= $1 and t.created_at < $2)
            from failing f
            """, start, end));

        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        var counted = new Dictionary<DateTimeOffset, StatsBucket>();
        var (pending, retrying, succeeded, failed, skipped) = (0, 0, 0, 0, 0);
        while (await reader.ReadAsync(cancellation))
        {
            var at = reader.GetFieldValue<DateTimeOffset>(0);
            var (s, f, p, r, k) = ((int)reader.GetInt64(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3), (int)reader.GetInt64(4), (int)reader.GetInt64(5));
            counted[at] = new StatsBucket(at, s, f, p);
            (pending, retrying, succeeded, failed, skipped) = (pending + p, retrying + r, succeeded + s, failed + f, skipped + k);
        }

        await reader.NextResultAsync(cancellation);
        await reader.ReadAsync(cancellation);
        var percentiles = reader.IsDBNull(0) ? null : reader.GetFieldValue<double[]>(0);

        // The 20 most failing by count (ties broken by name below, among them).
        await reader.NextResultAsync(cancellation);
        var byWebhook = new Dictionary<Guid, (int Failed, int Total)>();
        while (await reader.ReadAsync(cancellation))
        {
            byWebhook[reader.GetGuid(0)] = ((int)reader.GetInt64(1), (int)reader.GetInt64(2));
        }

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
