using System.Security.Claims;
using System.Text;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Batching;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Rendering;
using Webhooks.Dispatch.Routing;
using Wolverine.Http;

namespace Webhooks.Dispatch.History;

public static class ListDeliveriesEndpoint
{
    public static ProblemDetails Validate(string? status, string? after, int? limit)
    {
        var errors = new FieldErrors()
            .Check(status is null or DeliveryStatuses.Pending or DeliveryStatuses.Succeeded or DeliveryStatuses.Failed or DeliveryStatuses.Skipped,
                "status", "The status must be pending, succeeded, failed or skipped.")
            .Check(limit is null or >= 1 and <= Cursor.MaxLimit, "limit", $"The limit must be between 1 and {Cursor.MaxLimit}.")
            .Check(Cursor.TryDecode(after, out var key) && (key is null || Guid.TryParse(key, out _)), "after",
                "The cursor is not one this API handed out; pass the 'next' value of a previous page.");
        return errors.ToProblem();
    }

    /// <summary>Deliveries, newest first, filtered by webhook, status, event and time.</summary>
    [WolverineGet("/deliveries", OperationId = "ListDeliveries")]
    [Authorize(Roles = $"{Roles.Auditor},{Roles.Admin}")]
    [Tags("Deliveries")]
    public static async Task<Page<DeliveryView>> Get(
        string? webhook, string? status, Guid? eventId, DateTimeOffset? from, DateTimeOffset? to, string? after, int? limit,
        IQuerySession session, DispatchCatalog catalog, CancellationToken cancellation)
    {
        Cursor.TryDecode(after, out var afterId);
        var take = limit ?? Cursor.DefaultLimit;
        var where = new StringBuilder("where true");
        var parameters = new List<object>();
        void Filter(string sql, object value)
        {
            where.Append(" and ").Append(sql);
            parameters.Add(value);
        }

        // Delivery ids are version 7 UUIDs: ordering by id is ordering by creation time.
        if (afterId is not null)
        {
            Filter("id < ?", Guid.Parse(afterId));
        }

        // Each filter on an indexed column where there is one: a webhook's deliveries by (webhook_id, id), an event's
        // by their ids (its stream lists them), so neither walks the rest of the log.
        if (webhook is not null)
        {
            if (catalog.FindByName(webhook) is { } route)
            {
                Filter("webhook_id = ?", route.Definition.Id);
            }
            else
            {
                // A deleted webhook: its deliveries by the name they were made under.
                Filter("data ->> 'webhook' = ?", webhook);
            }
        }

        if (status is not null)
        {
            Filter("status = ?", status);
        }

        if (eventId is { } @event)
        {
            var published = await session.Events.FetchStreamAsync(@event, token: cancellation);
            var ids = published.Count > 0 && published[0].Data is EventPublished e ? e.Deliveries.ToArray() : [];
            Filter("id = ANY(?)", ids);
        }

        if (from is { } since)
        {
            Filter("created_at >= ?", since);
        }

        if (to is { } until)
        {
            Filter("created_at < ?", until);
        }

        where.Append(" order by id desc limit ?");
        parameters.Add(take + 1);
        var rows = await session.QueryAsync<DeliveryLog>(where.ToString(), cancellation, [.. parameters]);
        return Paging.Page(rows, take, d => d.ToView(), d => d.Id.ToString());
    }
}

public static class GetDeliveryEndpoint
{
    /// <summary>A delivery with all its attempts (request headers with Authorization redacted).</summary>
    [WolverineGet("/deliveries/{id}", OperationId = "GetDelivery")]
    [Authorize(Roles = $"{Roles.Auditor},{Roles.Admin}")]
    [Tags("Deliveries")]
    [ProducesResponseType<DeliveryView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<DeliveryLog>(id, cancellation) is { } delivery
            ? Results.Ok(delivery.ToView())
            : Results.Problem(Problems.NotFound($"There is no delivery with id {id}."));
}

public static class GetEventEndpoint
{
    /// <summary>A published event: its verdict and its deliveries.</summary>
    [WolverineGet("/events/{eventId}", OperationId = "GetEvent")]
    [Authorize(Roles = $"{Roles.Auditor},{Roles.Admin}")]
    [Tags("Deliveries")]
    [ProducesResponseType<EventView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(Guid eventId, IQuerySession session, CancellationToken cancellation)
    {
        var events = await session.Events.FetchStreamAsync(eventId, token: cancellation);
        if (events.Count == 0 || events[0].Data is not EventPublished published)
        {
            return Results.Problem(Problems.NotFound($"There is no published event with id {eventId}."));
        }

        var deliveries = await session.LoadManyAsync<DeliveryLog>(cancellation, published.Deliveries);
        return Results.Ok(new EventView(
            eventId, published.Application, published.EventSource, published.At, published.Verdict,
            deliveries.OrderBy(d => d.Id).Select(d => d.ToView()).ToList(),
            published.Record, published.ActionBy, published.ActionByName, published.Actor));
    }
}

public static class RedeliverEndpoint
{
    /// <summary>
    /// Delivers again, now, with the same webhook-id (receivers deduplicate on it), to the webhook's current URL; the
    /// retry schedule applies from there. A pending delivery is on its way already; a skipped one never had a body.
    /// </summary>
    [WolverinePost("/deliveries/{id}/redeliver", OperationId = "Redeliver")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Deliveries")]
    [ProducesResponseType<DeliveryView>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public static async Task<IResult> Post(
        Guid id, IQuerySession session, Redeliveries redeliveries, ClaimsPrincipal user, CancellationToken cancellation)
    {
        if (await session.LoadAsync<DeliveryLog>(id, cancellation) is not { } delivery)
        {
            return Results.Problem(Problems.NotFound($"There is no delivery with id {id}."));
        }

        if (delivery.Status is DeliveryStatuses.Pending or DeliveryStatuses.Skipped)
        {
            return Results.Problem(Problems.Conflict(delivery.Status == DeliveryStatuses.Pending
                ? "This delivery is still pending: it is being delivered or retried already."
                : "This delivery was skipped (its trigger could not be evaluated); nothing was ever sent to redeliver."));
        }

        return await redeliveries.Redeliver([delivery], user.Actor(), session, cancellation) == 1
            ? Results.Json(delivery.ToView() with { Status = DeliveryStatuses.Pending, Reason = null }, statusCode: StatusCodes.Status202Accepted)
            : Results.Problem(Problems.Conflict("The webhook or its event source no longer exists; there is nowhere to redeliver to."));
    }
}

public static class RecoverEndpoint
{
    public static ProblemDetails Validate(RecoverWindow request) => new FieldErrors()
        .Check(request.Since is not null, "since", "Say since when failed deliveries are redelivered, e.g. \"2026-11-29T00:00:00Z\".")
        .ToProblem();

    /// <summary>Redelivers every failed delivery of the webhook created since then, each with its own webhook-id.</summary>
    [WolverinePost("/webhooks/{name}/recover", OperationId = "RecoverWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Deliveries")]
    [ProducesResponseType<RecoverResult>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Post(
        string name, RecoverWindow request, IQuerySession session, DispatchCatalog catalog, Redeliveries redeliveries,
        ClaimsPrincipal user, CancellationToken cancellation)
    {
        if (catalog.FindByName(name) is not { } route)
        {
            return Results.Problem(Problems.NotFound($"There is no webhook named '{name}'."));
        }

        var failed = await session.QueryAsync<DeliveryLog>(
            "where data ->> 'webhookId' = ? and data ->> 'status' = ? and (data ->> 'createdAt')::timestamptz >= ? order by id",
            cancellation, route.Definition.Id.ToString(), DeliveryStatuses.Failed, request.Since!.Value);
        var count = 0;
        foreach (var chunk in failed.Chunk(GroupCommit.MaxBatch))
        {
            count += await redeliveries.Redeliver(chunk, user.Actor(), session, cancellation);
        }

        return Results.Json(new RecoverResult(count, failed.Select(d => d.Id).ToList()), statusCode: StatusCodes.Status202Accepted);
    }
}

/// <summary>Makes failed or succeeded deliveries again, now, with their own webhook-id; one group commit per call.</summary>
public sealed class Redeliveries(DispatchCatalog catalog, GroupCommit commits, TimeProvider time)
{
    public async Task<int> Redeliver(IReadOnlyList<DeliveryLog> deliveries, string actor, IQuerySession session, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var work = new List<(DeliveryLog Delivery, byte[] Body)>();
        foreach (var delivery in deliveries)
        {
            var events = await session.Events.FetchStreamAsync(delivery.EventId, token: cancellation);
            var route = catalog.Find(delivery.WebhookId);
            if (events.Count == 0 || events[0].Data is not EventPublished published || route is null
                || catalog.Source(published.Application, published.EventSource) is not { } source)
            {
                continue;
            }

            var entity = new EntityEvent(source, published.At, published.ActionBy, published.ActionByName, published.CallingSessionId, published.Record);
            work.Add((delivery, Payload.For(route.Definition.PayloadFormat, entity)));
        }

        if (work.Count > 0)
        {
            await commits.Commit(async (writer, bus) =>
            {
                foreach (var (delivery, body) in work)
                {
                    var next = delivery.Attempts.Count + 1;
                    writer.Events.Append(delivery.Id, new DeliveryRedeliveryRequested(delivery.Id, next, actor, now));
                    await bus.PublishAsync(new DeliverWebhook(delivery.Id, delivery.EventId, delivery.WebhookId, next, body));
                }
            });
        }

        return work.Count;
    }
}
