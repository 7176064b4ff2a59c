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

public static class WebhookActivityEndpoint
{
    public const int MaxNames = 500;
    public const int Recent = 100;

    public static ProblemDetails Validate(string? webhooks) => new FieldErrors()
        .Check(webhooks is { Length: > 0 } && webhooks.Split(',').Length <= MaxNames, "webhooks",
            $"Name between 1 and {MaxNames} webhooks, separated by commas.")
        .ToProblem();

    /// <summary>
    /// How each named webhook has been doing lately: its latest delivery, and the success rate of its last 100. One
    /// query for all of them, by index (what a list of webhooks shows beside each row).
    /// </summary>
    [WolverineGet("/deliveries/activity", OperationId = "GetWebhookActivity")]
    [Authorize(Roles = $"{Roles.Auditor},{Roles.Admin}")]
    [Tags("Deliveries")]
    public static async Task<IReadOnlyList<WebhookActivity>> Get(
        string webhooks, DispatchCatalog catalog, IDocumentStore store, NpgsqlDataSource database, CancellationToken cancellation)
    {
        var routes = webhooks.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Distinct(StringComparer.Ordinal)
            .Select(catalog.FindByName)
            .OfType<Route>()
            .ToList();
        if (routes.Count == 0)
        {
            return [];
        }

        var table = $"{store.Options.DatabaseSchemaName}.mt_doc_deliverylog";
        await using var command = database.CreateCommand($"""
            select w.name, latest.status, latest.created_at, coalesce(recent.succeeded, 0), coalesce(recent.failed, 0)
            from unnest($1::uuid[], $2::text[]) as w(id, name)
            left join lateral (
              select status, created_at from {table} where webhook_id = w.id order by id desc limit 1) latest on true
            left join lateral (
              select count(*) filter (where r.status = 'succeeded') as succeeded, count(*) filter (where r.status = 'failed') as failed
              from (select status from {table} where webhook_id = w.id order by id desc limit {Recent}) r) recent on true
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = routes.Select(r => r.Definition.Id).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = routes.Select(r => r.Definition.Name).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var activity = new List<WebhookActivity>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var (succeeded, failed) = ((int)reader.GetInt64(3), (int)reader.GetInt64(4));
            activity.Add(new WebhookActivity(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                succeeded,
                failed,
                succeeded + failed == 0 ? null : (double)succeeded / (succeeded + failed)));
        }

        return activity;
    }
}
