using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Routing;
using Wolverine.Http;

namespace Webhooks.Dispatch.History;

public static class WebhookStatsEndpoint
{
    public static ProblemDetails Validate(DateTimeOffset? from, DateTimeOffset? to) => new FieldErrors()
        .Check(from is null || to is null || from < to, "from", "The window's start must be before its end.")
        .ToProblem();

    /// <summary>
    /// Counts by status, success rate and call latency p50/p95/p99 (of each delivery's latest call) of a webhook's
    /// deliveries created in [from, to), computed in the database from the delivery log's indexed columns; with <c>series=true</c>, also the window (by default the 24 whole hours
    /// ending with the current one, unless given) in 24 buckets.
    /// </summary>
    [WolverineGet("/webhooks/{name}/stats", OperationId = "GetWebhookStats")]
    [Authorize(Roles = $"{Roles.Auditor},{Roles.Admin}")]
    [Tags("Deliveries")]
    [ProducesResponseType<WebhookStats>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(
        string name, DateTimeOffset? from, DateTimeOffset? to, bool? series, DispatchCatalog catalog, IDocumentStore store,
        NpgsqlDataSource database, TimeProvider time, CancellationToken cancellation)
    {
        if (catalog.FindByName(name) is not { } route)
        {
            return Results.Problem(Problems.NotFound($"There is no webhook named '{name}'."));
        }

        var table = $"{store.Options.DatabaseSchemaName}.mt_doc_deliverylog";
        // The delivery log's columns, from one covering index on (webhook_id, created_at): an index-only scan of the
        // webhook's deliveries in the window, whatever else the log holds. The latency is each delivery's latest call.
        await using var command = database.CreateCommand($"""
            select
              count(*) filter (where status = 'pending'),
              count(*) filter (where status = 'succeeded'),
              count(*) filter (where status = 'failed'),
              count(*) filter (where status = 'skipped'),
              coalesce(sum(attempt_count), 0),
              percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms::float8)
            from {table}
            where webhook_id = $1 and ($2::timestamptz is null or created_at >= $2) and ($3::timestamptz is null or created_at < $3)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = route.Definition.Id, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)from ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)to ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        await reader.ReadAsync(cancellation);
        var (pending, succeeded, failed, skipped, attempts) =
            ((int)reader.GetInt64(0), (int)reader.GetInt64(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3), (int)reader.GetInt64(4));
        var percentiles = reader.IsDBNull(5) ? null : reader.GetFieldValue<double[]>(5);
        await reader.CloseAsync();
        return Results.Ok(new WebhookStats(
            name, from, to, pending, succeeded, failed, skipped,
            succeeded + failed == 0 ? null : (double)succeeded / (succeeded + failed),
            attempts, percentiles?[0], percentiles?[1], percentiles?[2],
            series == true ? await Series(route.Definition.Id, from, to, table, database, time, cancellation) : null,
            (route.Definition.Health ?? Definitions.Contracts.WebhookHealth.Closed).At(time.GetUtcNow())));
    }

    private static async Task<IReadOnlyList<StatsBucket>> Series(
        Guid webhookId, DateTimeOffset? from, DateTimeOffset? to, string table, NpgsqlDataSource database, TimeProvider time,
        CancellationToken cancellation)
    {
        var (start, end, bucket) = DeliveryOverviewEndpoint.Window(from, to, time);
        await using var batch = database.CreateBatch();
        var command = DeliveryOverviewEndpoint.Command($"""
            select date_bin($3, created_at, $1), count(*) filter (where status = 'succeeded'),
                   count(*) filter (where status = 'failed'), count(*) filter (where status = 'pending')
            from {table} where webhook_id = $4 and created_at >= $1 and created_at < $2 group by 1 order by 1
            """, start, end, bucket);
        command.Parameters.Add(new NpgsqlParameter { Value = webhookId, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        batch.BatchCommands.Add(command);
        var counted = new Dictionary<DateTimeOffset, StatsBucket>();
        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var at = reader.GetFieldValue<DateTimeOffset>(0);
            counted[at] = new StatsBucket(at, (int)reader.GetInt64(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3));
        }

        return DeliveryOverviewEndpoint.Series(counted, start, bucket);
    }
}
