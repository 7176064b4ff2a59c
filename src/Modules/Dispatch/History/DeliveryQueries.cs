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
        IQuerySession session, CancellationToken cancellation)
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

        if (webhook is not null)
        {
            Filter("data ->> 'webhook' = ?", webhook);
        }

        if (status is not null)
        {
            Filter("data ->> 'status' = ?", status);
        }

        if (eventId is { } @event)
        {
            Filter("data ->> 'eventId' = ?", @event.ToString());
        }

        if (from is { } since)
        {
            Filter("(data ->> 'createdAt')::timestamptz >= ?", since);
        }

        if (to is { } until)
        {
            Filter("(data ->> 'createdAt')::timestamptz < ?", until);
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
            deliveries.OrderBy(d => d.Id).Select(d => d.ToView()).ToList()));
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
        Guid id, IQuerySession session, DispatchCatalog catalog, GroupCommit commits, ClaimsPrincipal user, TimeProvider time,
        CancellationToken cancellation)
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

        var events = await session.Events.FetchStreamAsync(delivery.EventId, token: cancellation);
        var route = catalog.Find(delivery.WebhookId);
        if (events.Count == 0 || events[0].Data is not EventPublished published || route is null
            || catalog.Source(published.Application, published.EventSource) is not { } source)
        {
            return Results.Problem(Problems.Conflict("The webhook or its event source no longer exists; there is nowhere to redeliver to."));
        }

        var entity = new EntityEvent(source, published.At, published.ActionBy, published.ActionByName, published.CallingSessionId, published.Record);
        var body = route.Definition.PayloadFormat == PayloadFormats.Xml ? Payload.Xml(entity) : Payload.Json(entity);
        var next = delivery.Attempts.Count + 1;
        var now = time.GetUtcNow();
        await commits.Commit(async (writer, bus) =>
        {
            writer.Events.Append(id, new DeliveryRedeliveryRequested(id, next, user.Actor(), now));
            await bus.PublishAsync(new DeliverWebhook(id, delivery.EventId, delivery.WebhookId, next, body));
        });

        delivery.Status = DeliveryStatuses.Pending;
        delivery.Reason = null;
        return Results.Json(delivery.ToView(), statusCode: StatusCodes.Status202Accepted);
    }
}
