using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Dispatch.Batching;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Rendering;
using Webhooks.Dispatch.Routing;
using Wolverine.Http;

namespace Webhooks.Dispatch.History;

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
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status410Gone, "application/problem+json")]
    public static async Task<IResult> Post(
        Guid id, IQuerySession session, Redeliveries redeliveries, ClaimsPrincipal user, CancellationToken cancellation)
    {
        if (await session.LoadAsync<DeliveryLog>(id, cancellation) is not { } delivery)
        {
            return Results.Problem(await GetDeliveryEndpoint.Missing(id, session, cancellation));
        }

        if (delivery.PayloadRemovedAt is { } removedAt)
        {
            return Results.Problem(Problems.Gone(
                $"This delivery's payload was removed on {removedAt:yyyy-MM-dd} (Webhooks:Retention:Payloads): there is nothing left to send again.", removedAt));
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

/// <summary>Makes failed or succeeded deliveries again, now, with their own webhook-id; one group commit per event's stream.</summary>
public sealed class Redeliveries(DispatchCatalog catalog, GroupCommit commits, TimeProvider time)
{
    public async Task<int> Redeliver(IReadOnlyList<DeliveryLog> deliveries, string actor, IQuerySession session, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var work = new List<(DeliveryLog Delivery, byte[] Body)>();
        foreach (var delivery in deliveries)
        {
            var events = await session.Events.FetchStreamAsync(delivery.EventId, version: 1, token: cancellation);
            var route = catalog.Find(delivery.WebhookId);
            // (An event whose record retention removed has nothing left to send.)
            if (events.Count == 0 || events[0].Data is not EventPublished { RecordRemovedAt: null } published || route is null
                || catalog.Source(published.Application, published.EventSource) is not { } source)
            {
                continue;
            }

            var entity = new EntityEvent(source, published.At, published.ActionBy, published.ActionByName, published.CallingSessionId, published.Record);
            work.Add((delivery, Payload.For(route.Definition.PayloadFormat, entity)));
        }

        // The deliveries of one event share its stream: one commit per stream, on the commit loop it belongs to.
        await Task.WhenAll(work.GroupBy(w => w.Delivery.EventId).Select(stream => commits.Commit(async (writer, bus) =>
        {
            foreach (var (delivery, body) in stream)
            {
                var next = delivery.Attempts.Count + 1;
                writer.Events.Append(delivery.EventId, new DeliveryRedeliveryRequested(delivery.Id, next, actor, now));
                await bus.PublishAsync(new DeliverWebhook(delivery.Id, delivery.EventId, delivery.WebhookId, next, body));
            }
        }, stream.Key)));

        return work.Count;
    }
}
