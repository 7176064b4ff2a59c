using System.Text.Json;

namespace Webhooks.Dispatch.Delivery;

// The streams Dispatch writes: one per published event, holding the event (EventPublished first) and its deliveries'
// creation (DeliveryScheduled, DeliverySkipped, the sync attempts, redeliveries asked); and one per group commit of
// async attempts, its ledger, holding the attempts and outcomes that commit recorded (issue 14: one append for a
// batch's attempts instead of one per delivery). Every delivery event names its delivery (whose id is the webhook-id
// header), and the delivery log gathers them by it from whichever stream holds them; deliveries made before issue 14
// have a stream of their own, read the same way. The events carry the application's record (it is what was
// delivered) but never a credential or a signing secret.

/// <param name="RecordRemovedAt">When retention removed <paramref name="Record"/> (then a JSON null): see Retention.</param>
public sealed record EventPublished(
    Guid EventId, string Application, string EventSource, string? ActionBy, string? ActionByName, string? CallingSessionId,
    JsonElement Record, string Verdict, IReadOnlyList<Guid> Deliveries, string Actor, DateTimeOffset At, DateTimeOffset? RecordRemovedAt = null);

public sealed record DeliveryScheduled(
    Guid DeliveryId, Guid EventId, Guid WebhookId, string Webhook, string Url, string PostMode, string PayloadFormat, DateTimeOffset At);

/// <summary>One call to the target: what was sent (Authorization redacted) and what came back.</summary>
/// <param name="ExcerptRemovedAt">When retention removed <paramref name="ResponseExcerpt"/>: see Retention.</param>
public sealed record DeliveryAttempted(
    Guid DeliveryId, int Number, DateTimeOffset At, int? StatusCode, long DurationMs, string? ResponseExcerpt, string? Error,
    IReadOnlyDictionary<string, string> RequestHeaders, DateTimeOffset? ExcerptRemovedAt = null);

public sealed record DeliveryRetryScheduled(Guid DeliveryId, int NextAttempt, DateTimeOffset NextAttemptAt);

public sealed record DeliverySucceeded(Guid DeliveryId, DateTimeOffset At);

public sealed record DeliveryFailed(Guid DeliveryId, string Reason, DateTimeOffset At);

/// <summary>
/// An ordered delivery came due behind another of its key (<paramref name="Behind"/>): it waits, without a message of
/// its own, until that one succeeds or fails for good.
/// </summary>
public sealed record DeliveryQueued(Guid DeliveryId, Guid Behind, string Key, DateTimeOffset At);

/// <summary>
/// The delivery came due while its webhook was disabled: it waits, pending, without a message of its own, until the
/// webhook is enabled (which resumes or fails it, as the enabling chose).
/// </summary>
public sealed record DeliveryParked(Guid DeliveryId, int NextAttempt, string Reason, DateTimeOffset At);

/// <summary>The webhook's trigger could not be evaluated for the event (or did not parse): not called, and why.</summary>
public sealed record DeliverySkipped(Guid DeliveryId, Guid EventId, Guid WebhookId, string Webhook, string PostMode, string Reason, DateTimeOffset At);

/// <summary>One attempt of an async delivery, carrying the rendered body: a durable message of its own for retries,
/// redeliveries and deliveries put back for later; a first attempt travels in a <see cref="DeliverWebhooks"/>.</summary>
/// <param name="Ordered">It joined its ordering key's queue when accepted: only the queue's head is made.</param>
/// <param name="TraceParent">The W3C trace context of the publish that made it, when it was traced: every attempt is a
/// span of that trace, however much later and on whichever host it is made (issue 16).</param>
public sealed record DeliverWebhook(Guid DeliveryId, Guid EventId, Guid WebhookId, int Attempt, byte[] Body, bool Ordered = false, string? TraceParent = null);

/// <summary>
/// The first attempts of the deliveries one group commit recorded: one durable message for all of them (issue 14), so
/// the durable inbox stores and marks one envelope per commit instead of one per delivery; or deliveries that stepped
/// aside together. Made by <see cref="Split"/> only, so that none outgrows what Wolverine reads back.
/// </summary>
public sealed record DeliverWebhooks(IReadOnlyList<DeliverWebhook> Deliveries)
{
    /// <summary>
    /// The most body bytes one message carries (1 MiB). Wolverine refuses to read back an envelope over
    /// <c>MaxIncomingEnvelopeDataSize</c> (4 MiB by default), and bodies travel as base64 (4/3 of their size): a larger
    /// one would be stored, then fail every poll of the scheduled or recovered messages, holding back all the others.
    /// </summary>
    public const int MaxBodyBytes = 1 << 20;

    /// <summary>What a delivery costs a message besides its body (ids, attempt, names), counted against <see cref="MaxBodyBytes"/>.</summary>
    private const int Overhead = 256;

    /// <summary>The deliveries in order, as few messages as keep each under <see cref="MaxBodyBytes"/> (a larger body travels alone).</summary>
    public static IEnumerable<DeliverWebhooks> Split(IEnumerable<DeliverWebhook> deliveries)
    {
        var chunk = new List<DeliverWebhook>();
        var bytes = 0L;
        foreach (var delivery in deliveries)
        {
            var size = delivery.Body.Length + Overhead;
            if (chunk.Count > 0 && bytes + size > MaxBodyBytes)
            {
                yield return new DeliverWebhooks(chunk);
                chunk = [];
                bytes = 0;
            }

            chunk.Add(delivery);
            bytes += size;
        }

        if (chunk.Count > 0)
        {
            yield return new DeliverWebhooks(chunk);
        }
    }
}

/// <summary>An admin asked for the delivery to be made again (same webhook-id); its next attempt follows.</summary>
public sealed record DeliveryRedeliveryRequested(Guid DeliveryId, int NextAttempt, string Actor, DateTimeOffset At);

/// <summary>
/// Retention archived the event's deliveries (<c>Webhooks:Retention:Deliveries</c>): the last event of its stream,
/// appended as the stream moves to the archive. It carries the delivery log's entries as they were then, so the archived
/// event still answers <c>GET /events/{id}</c> with its deliveries after their log entries left the hot table.
/// </summary>
public sealed record DeliveriesArchived(Guid EventId, IReadOnlyList<Contracts.DeliveryView> Deliveries, DateTimeOffset At);
