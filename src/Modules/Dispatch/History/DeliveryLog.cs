using Marten.Events.Aggregation;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;

namespace Webhooks.Dispatch.History;

/// <summary>The delivery log: one document per delivery stream, rebuildable from its events at any time.</summary>
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

    /// <summary>How many calls were made (a column, for the statistics).</summary>
    public int AttemptCount { get; set; }

    public DeliveryView ToView() => new(Id, EventId, Webhook, Url, PostMode, Status, Attempts, NextAttemptAt, CreatedAt, Reason);
}

public sealed partial class DeliveryLogProjection : SingleStreamProjection<DeliveryLog, Guid>
{
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

    public static void Apply(DeliveryAttempted e, DeliveryLog log)
    {
        log.Attempts.Add(new AttemptView(e.Number, e.At, e.StatusCode, e.DurationMs, e.ResponseExcerpt, e.Error, e.RequestHeaders));
        log.NextAttemptAt = null;
        log.DurationMs = e.DurationMs;
        log.AttemptCount = log.Attempts.Count;
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
    }

    public static void Apply(DeliveryRedeliveryRequested e, DeliveryLog log)
    {
        log.Status = DeliveryStatuses.Pending;
        log.Reason = null;
    }
}
