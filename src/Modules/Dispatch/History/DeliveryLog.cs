using Marten.Events.Projections;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;

namespace Webhooks.Dispatch.History;

/// <summary>The delivery log: one document per delivery, rebuildable from its events at any time.</summary>
public sealed class DeliveryLog
{
    public Guid Id { get; set; }
    public Guid EventId { get; set; }
    public Guid WebhookId { get; set; }
    public string Webhook { get; set; } = "";
    public string Url { get; set; } = "";
    public string PostMode { get; set; } = "";
    public string Status { get; set; } = DeliveryStatuses.Pending;
    public List<AttemptView> Attempts { get; set; } = [];
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? Reason { get; set; }

    /// <summary>How long the latest call took (a column, for the overview's and the statistics' latency).</summary>
    public long? DurationMs { get; set; }

    /// <summary>Waiting for its disabled webhook to be enabled (no message of its own meanwhile).</summary>
    public bool Parked { get; set; }

    /// <summary>How many calls were made (a column, for the statistics).</summary>
    public int AttemptCount { get; set; }

    /// <summary>When retention removed its payload and response excerpts (Retention).</summary>
    public DateTimeOffset? PayloadRemovedAt { get; set; }

    /// <summary>
    /// Marten calls this when it maps the document. Its columns (duplicated from the JSON, with no index of their own)
    /// and the indexes the reads need, each named after the read (Marten's Duplicate() indexes only its own column):
    /// a webhook's deliveries newest first (ids are version 7 UUIDs: time-ordered), as lists and paging read them;
    /// a webhook's statistics, and the overview's window, each from its index alone (index-only scans once vacuum has
    /// marked the pages visible); a status across webhooks. (No index on next_attempt_at: no read filters on it, and
    /// each one costs every write of the log, issue 14.)
    /// </summary>
    public static void ConfigureMarten(Marten.Schema.DocumentMapping mapping)
    {
        foreach (var member in new[] { nameof(WebhookId), nameof(CreatedAt), nameof(Status), nameof(DurationMs), nameof(NextAttemptAt), nameof(AttemptCount) })
        {
            mapping.DuplicateField(member);
        }

        mapping.Indexes.Add(new Marten.Schema.DocumentIndex(mapping, "webhook_id", "id") { Name = "mt_doc_deliverylog_idx_webhook_id_id" });
        mapping.Indexes.Add(new Marten.Schema.DocumentIndex(mapping, "webhook_id", "created_at")
        {
            Name = "mt_doc_deliverylog_idx_webhook_stats",
            IncludeColumns = ["status", "duration_ms", "attempt_count"],
        });
        mapping.Indexes.Add(new Marten.Schema.DocumentIndex(mapping, "created_at")
        {
            Name = "mt_doc_deliverylog_idx_window",
            IncludeColumns = ["webhook_id", "status", "next_attempt_at", "duration_ms"],
        });
        mapping.Indexes.Add(new Marten.Schema.DocumentIndex(mapping, "status") { Name = "mt_doc_deliverylog_idx_status" });
    }

    public DeliveryView ToView() => new(Id, EventId, Webhook, Url, PostMode, Status, Attempts, NextAttemptAt, CreatedAt, Reason, PayloadRemovedAt);
}

/// <summary>
/// The delivery log as an inline projection of every delivery's events, by the delivery's id, from whichever stream
/// holds them: a delivery's creation is in its published event's stream, its async attempts and outcome in the
/// ledgers of the commits that recorded them (issue 14); deliveries made before that have a stream of their own.
/// </summary>
public sealed partial class DeliveryLogProjection : MultiStreamProjection<DeliveryLog, Guid>
{
    public DeliveryLogProjection()
    {
        Identity<DeliveryScheduled>(e => e.DeliveryId);
        Identity<DeliverySkipped>(e => e.DeliveryId);
        Identity<DeliveryAttempted>(e => e.DeliveryId);
        Identity<DeliveryRetryScheduled>(e => e.DeliveryId);
        Identity<DeliverySucceeded>(e => e.DeliveryId);
        Identity<DeliveryFailed>(e => e.DeliveryId);
        Identity<DeliveryRedeliveryRequested>(e => e.DeliveryId);
        Identity<DeliveryParked>(e => e.DeliveryId);
        Identity<DeliveryQueued>(e => e.DeliveryId);
    }

    public static DeliveryLog Create(DeliveryScheduled e) => new()
    {
        Id = e.DeliveryId,
        EventId = e.EventId,
        WebhookId = e.WebhookId,
        Webhook = e.Webhook,
        Url = e.Url,
        PostMode = e.PostMode,
        CreatedAt = e.At,
    };

    public static DeliveryLog Create(DeliverySkipped e) => new()
    {
        Id = e.DeliveryId,
        EventId = e.EventId,
        WebhookId = e.WebhookId,
        Webhook = e.Webhook,
        PostMode = e.PostMode,
        Status = DeliveryStatuses.Skipped,
        Reason = e.Reason,
        CreatedAt = e.At,
    };

    // A delivery whose creation is not among the events (retention archived it with its event, while a ledger holding
    // a later attempt is still hot: a rebuild reads only hot events) makes no entry: it is archived, not pending.
    public static bool ShouldDelete(DeliveryLog log, DeliveryAttempted e) => log.EventId == Guid.Empty;

    public static bool ShouldDelete(DeliveryLog log, DeliveryRetryScheduled e) => log.EventId == Guid.Empty;

    public static bool ShouldDelete(DeliveryLog log, DeliverySucceeded e) => log.EventId == Guid.Empty;

    public static bool ShouldDelete(DeliveryLog log, DeliveryFailed e) => log.EventId == Guid.Empty;

    public static bool ShouldDelete(DeliveryLog log, DeliveryParked e) => log.EventId == Guid.Empty;

    public static bool ShouldDelete(DeliveryLog log, DeliveryQueued e) => log.EventId == Guid.Empty;

    public static void Apply(DeliveryAttempted e, DeliveryLog log)
    {
        log.Attempts.Add(new AttemptView(e.Number, e.At, e.StatusCode, e.DurationMs, e.ResponseExcerpt, e.Error, e.RequestHeaders));
        log.NextAttemptAt = null;
        log.Reason = null; // no longer waiting (behind another of its key, or for its webhook)
        log.Parked = false;
        log.DurationMs = e.DurationMs;
        log.AttemptCount = log.Attempts.Count;
        log.PayloadRemovedAt ??= e.ExcerptRemovedAt; // a log rebuilt from events whose excerpts retention removed
    }

    public static void Apply(DeliveryRetryScheduled e, DeliveryLog log) => log.NextAttemptAt = e.NextAttemptAt;

    public static void Apply(DeliverySucceeded e, DeliveryLog log)
    {
        log.Status = DeliveryStatuses.Succeeded;
        log.Reason = null;
    }

    public static void Apply(DeliveryFailed e, DeliveryLog log)
    {
        log.Status = DeliveryStatuses.Failed;
        log.Reason = e.Reason;
        log.NextAttemptAt = null;
        log.Parked = false;
    }

    public static void Apply(DeliveryRedeliveryRequested e, DeliveryLog log)
    {
        log.Status = DeliveryStatuses.Pending;
        log.Reason = null;
        log.Parked = false;
    }

    public static void Apply(DeliveryQueued e, DeliveryLog log)
    {
        log.Status = DeliveryStatuses.Pending;
        log.Reason = $"Waiting behind delivery {e.Behind}, the one before it with the same ordering key ({e.Key}).";
        log.NextAttemptAt = null;
    }

    public static void Apply(DeliveryParked e, DeliveryLog log)
    {
        log.Status = DeliveryStatuses.Pending;
        log.Reason = e.Reason;
        log.NextAttemptAt = null;
        log.Parked = true;
    }
}
