using Marten;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Batching;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Routing;
using Wolverine;

namespace Webhooks.Dispatch.History;

/// <summary>
/// A webhook was enabled (issue 15): the deliveries parked while it was disabled are made again now, with their own
/// webhook-id (<see cref="Redeliveries"/>), or failed with the reason, as the enabling chose. Waits until this node
/// knows the webhook enabled (else a resumed delivery would park again); a second pass a few seconds later takes a
/// delivery that was parking while the first one ran.
/// </summary>
public static class ParkedDeliveriesHandler
{
    public static readonly TimeSpan SecondPass = TimeSpan.FromSeconds(5);

    public static async Task Handle(
        ParkedDeliveriesOnEnable enabled, DispatchCatalog catalog, IDocumentStore store, Redeliveries redeliveries, GroupCommit commits,
        Flow.OrderedDeliveries ordered, TimeProvider time, IMessageContext context, CancellationToken cancellation)
    {
        var route = catalog.Find(enabled.WebhookId);
        if (route is null)
        {
            return;
        }

        if (route.Definition.Version < enabled.Version)
        {
            await context.ScheduleAsync(enabled, time.GetUtcNow().AddMilliseconds(250));
            return;
        }

        if (!route.Definition.Enabled)
        {
            return; // disabled again meanwhile: its deliveries wait for the next enabling's choice
        }

        await using var session = store.QuerySession();
        var parked = await session.QueryAsync<DeliveryLog>(
            "where webhook_id = ? and (data ->> 'parked')::boolean order by id", cancellation, enabled.WebhookId);
        Task Fail(IEnumerable<DeliveryLog> deliveries, Func<DeliveryLog, string> reason)
        {
            var now = time.GetUtcNow();
            return Task.WhenAll(deliveries.GroupBy(d => d.EventId).Select(stream => commits.Commit((writer, bus) =>
            {
                foreach (var delivery in stream)
                {
                    commits.Record(bus, new DeliveryFailed(delivery.Id, reason(delivery), now));
                    // Failed for good: it leaves its ordering key's queue, if any (the sweep wakes the next).
                    ordered.Leave(writer, delivery.Id);
                }

                return ValueTask.CompletedTask;
            }, stream.Key)));
        }

        foreach (var chunk in parked.Chunk(GroupCommit.MaxBatch))
        {
            // Kept longer than payloads are (Webhooks:Retention:Payloads): nothing left to send.
            await Fail(chunk.Where(d => d.PayloadRemovedAt is not null), d =>
                $"Its payload was removed by retention on {d.PayloadRemovedAt:yyyy-MM-dd} (Webhooks:Retention:Payloads) while the webhook was disabled; there is nothing left to send.");
            var kept = chunk.Where(d => d.PayloadRemovedAt is null).ToList();
            if (enabled.Pending == PendingOnEnable.Fail)
            {
                await Fail(kept, _ => $"Failed when {enabled.Actor} enabled the webhook again (pending=fail); recover it with POST /webhooks/{{name}}/recover.");
            }
            else
            {
                await redeliveries.Redeliver(kept, enabled.Actor, session, cancellation);
            }
        }

        if (enabled.Pass == 1)
        {
            await context.ScheduleAsync(enabled with { Pass = 2 }, time.GetUtcNow() + SecondPass);
        }
    }
}
