using System.Text;
using Marten;
using Marten.Events.Archiving;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;
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
            var published = await session.Events.FetchStreamAsync(@event, version: 1, token: cancellation);
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
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status410Gone, "application/problem+json")]
    public static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<DeliveryLog>(id, cancellation) is { } delivery
            ? Results.Ok(delivery.ToView())
            : Results.Problem(await Missing(id, session, cancellation));

    /// <summary>
    /// Why a delivery is not in the log: 410 when it was made before what retention archived (its id is a version 7
    /// UUID: it says when), with when; else 404.
    /// </summary>
    public static async Task<ProblemDetails> Missing(Guid id, IQuerySession session, CancellationToken cancellation)
    {
        if (Retention.Retention.Uuid7Time(id) is { } made
            && await session.LoadAsync<Retention.RetentionState>(Retention.RetentionState.TheId, cancellation) is { } state
            && state.ArchivedAt(made) is { } archivedAt)
        {
            return Problems.Gone(
                $"Delivery {id} was made on {made:yyyy-MM-dd} and archived by retention on {archivedAt:yyyy-MM-dd} (Webhooks:Retention:Deliveries). " +
                "Its event still shows it as it was then, from the archive (GET /events/{eventId}).", archivedAt);
        }

        return Problems.NotFound($"There is no delivery with id {id}.");
    }
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
        // The event is its stream's first event; its deliveries' creation follows it, their attempts are in the commits'
        // ledgers (the log has them all).
        var events = await session.Events.FetchStreamAsync(eventId, version: 1, token: cancellation);
        if (events.Count > 0 && events[0].Data is EventPublished published)
        {
            var deliveries = await session.LoadManyAsync<DeliveryLog>(cancellation, published.Deliveries);
            return Results.Ok(View(published, deliveries.OrderBy(d => d.Id).Select(d => d.ToView()).ToList(), archivedAt: null));
        }

        // Archived by retention: the whole stream from the archive, its deliveries as they were when archived.
        var archived = await session.Events.QueryAllRawEvents()
            .Where(e => e.MaybeArchived() && e.StreamId == eventId)
            .OrderBy(e => e.Version)
            .ToListAsync(cancellation);
        if (archived.Count > 0 && archived[0].Data is EventPublished old && archived[^1].Data is DeliveriesArchived last)
        {
            return Results.Ok(View(old, last.Deliveries, last.At));
        }

        return Results.Problem(Problems.NotFound($"There is no published event with id {eventId}."));
    }

    private static EventView View(EventPublished published, IReadOnlyList<DeliveryView> deliveries, DateTimeOffset? archivedAt) => new(
        published.EventId, published.Application, published.EventSource, published.At, published.Verdict, deliveries,
        published.RecordRemovedAt is null ? published.Record : null, published.ActionBy, published.ActionByName, published.Actor,
        published.RecordRemovedAt, archivedAt);
}
