using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using NpgsqlTypes;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Dispatch.Contracts;
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
        CancellationToken cancellation)
    {
        var (start, end, bucket) = Window(from, to, time);
        var table = $"{store.Options.DatabaseSchemaName}.mt_doc_deliverylog";
        await using var batch = database.CreateBatch();
        batch.BatchCommands.Add(Command($"""
            select count(*) filter (where status = 'pending'),
                   count(*) filter (where status = 'pending' and data ->> 'nextAttemptAt' is not null),
                   count(*) filter (where status = 'succeeded'), count(*) filter (where status = 'failed'),
                   count(*) filter (where status = 'skipped'),
                   percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms)
            from {table} where created_at >= $1 and created_at < $2
            """, start, end));
        batch.BatchCommands.Add(Command($"""
            select date_bin($3, created_at, $1), count(*) filter (where status = 'succeeded'),
                   count(*) filter (where status = 'failed'), count(*) filter (where status = 'pending')
            from {table} where created_at >= $1 and created_at < $2 group by 1 order by 1
            """, start, end, bucket));
        batch.BatchCommands.Add(Command($"""
            select data ->> 'webhook', count(*) filter (where status = 'failed'), count(*)
            from {table} where created_at >= $1 and created_at < $2
            group by 1 having count(*) filter (where status = 'failed') > 0 order by 2 desc, 1 limit 5
            """, start, end));

        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        await reader.ReadAsync(cancellation);
        var (pending, retrying, succeeded, failed, skipped) =
            ((int)reader.GetInt64(0), (int)reader.GetInt64(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3), (int)reader.GetInt64(4));
        var percentiles = reader.IsDBNull(5) ? null : reader.GetFieldValue<double[]>(5);

        await reader.NextResultAsync(cancellation);
        var counted = new Dictionary<DateTimeOffset, StatsBucket>();
        while (await reader.ReadAsync(cancellation))
        {
            var at = reader.GetFieldValue<DateTimeOffset>(0);
            counted[at] = new StatsBucket(at, (int)reader.GetInt64(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3));
        }

        await reader.NextResultAsync(cancellation);
        var failing = new List<FailingWebhook>();
        while (await reader.ReadAsync(cancellation))
        {
            failing.Add(new FailingWebhook(reader.GetString(0), (int)reader.GetInt64(1), (int)reader.GetInt64(2)));
        }

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
