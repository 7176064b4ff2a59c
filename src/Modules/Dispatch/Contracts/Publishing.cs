using System.Text.Json;
using System.Text.Json.Serialization;

namespace Webhooks.Dispatch.Contracts;

/// <summary>
/// An application's entity event: the body of <c>POST /events</c>, and the in-process message
/// (<c>InvokeAsync&lt;PublishResult&gt;</c>) with the same answer.
/// </summary>
/// <param name="Application">The application that fires it (must be in the catalog).</param>
/// <param name="EventSource">The event source (must be in the catalog).</param>
/// <param name="ActionBy">Who acted in the application (e.g. a user id).</param>
/// <param name="ActionByName">Their display name.</param>
/// <param name="CallingSessionId">The application's session id, passed through to targets.</param>
/// <param name="Record">The record, a JSON object, as targets will receive it.</param>
/// <param name="IdempotencyKey">
/// A repeat within 24 h returns the first answer. In-process and in a batch (<c>POST /events/batch</c>); a single
/// <c>POST /events</c> takes it from the <c>Idempotency-Key</c> header instead.
/// </param>
public sealed record PublishEntityEvent(
    string? Application,
    string? EventSource,
    string? ActionBy,
    string? ActionByName,
    string? CallingSessionId,
    JsonElement? Record,
    string? IdempotencyKey = null);

/// <summary>What became of a published event.</summary>
/// <param name="EventId">The event's id.</param>
/// <param name="Outcome">Accepted (202: no synchronous webhook matched), Allowed (200) or Rejected (422: vetoed).</param>
/// <param name="Deliveries">One per matched webhook.</param>
/// <param name="Warnings">Failed <c>sync</c> webhooks: they warn, they do not veto.</param>
/// <param name="Rejections">The <c>syncCritical</c> webhooks that vetoed, when any did.</param>
public sealed record PublishResult(
    Guid EventId,
    PublishOutcome Outcome,
    IReadOnlyList<DeliverySummary> Deliveries,
    IReadOnlyList<PublishWarning> Warnings,
    IReadOnlyList<PublishRejection> Rejections)
{
    /// <summary>The first veto: its message is what the user is shown.</summary>
    public PublishRejection? Rejection => Rejections.Count > 0 ? Rejections[0] : null;
}

/// <summary>The verdict on a published event.</summary>
public enum PublishOutcome
{
    /// <summary>No sync or syncCritical webhook matched; async deliveries are durably scheduled (HTTP 202).</summary>
    Accepted,

    /// <summary>Synchronous webhooks answered and none vetoed (HTTP 200).</summary>
    Allowed,

    /// <summary>A syncCritical webhook vetoed the action; nothing async was scheduled (HTTP 422).</summary>
    Rejected,
}

/// <summary>One delivery of the event to one webhook.</summary>
/// <param name="Id">The delivery's id: the <c>webhook-id</c> header, the same on every retry.</param>
/// <param name="Webhook">The webhook's name.</param>
/// <param name="PostMode">The webhook's post mode.</param>
/// <param name="Status"><c>pending</c>, <c>succeeded</c>, <c>failed</c> or <c>skipped</c> (its trigger could not be evaluated).</param>
public sealed record DeliverySummary(Guid Id, string Webhook, string PostMode, string Status);

/// <summary>A sync webhook that did not answer 2xx.</summary>
/// <param name="Webhook">The webhook's name.</param>
/// <param name="StatusCode">Its HTTP status, if it answered.</param>
/// <param name="Message">Its text/plain body when it sent one, else what went wrong.</param>
public sealed record PublishWarning(string Webhook, int? StatusCode, string Message);

/// <summary>The syncCritical webhook that vetoed the action.</summary>
/// <param name="Webhook">The webhook's name.</param>
/// <param name="StatusCode">Its HTTP status, if it answered.</param>
/// <param name="Message">Its text/plain body (UTF-8) when it sent one, else a message naming the webhook and status.</param>
public sealed record PublishRejection(string Webhook, int? StatusCode, string Message);

/// <summary>Delivery statuses.</summary>
public static class DeliveryStatuses
{
    /// <summary>Scheduled or being retried.</summary>
    public const string Pending = "pending";

    /// <summary>The target answered 2xx.</summary>
    public const string Succeeded = "succeeded";

    /// <summary>No 2xx: for async after the last retry; for sync at once.</summary>
    public const string Failed = "failed";

    /// <summary>The webhook's trigger expression could not be evaluated for this event.</summary>
    public const string Skipped = "skipped";
}

/// <summary>The body of a 200 or 202 answer to <c>POST /events</c>.</summary>
/// <param name="EventId">The event's id.</param>
/// <param name="Allowed">True on a 200 (synchronous webhooks answered, none vetoed); absent on a 202.</param>
/// <param name="Deliveries">One per matched webhook.</param>
/// <param name="Warnings">Failed sync webhooks (200 only).</param>
public sealed record PublishResponse(
    Guid EventId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Allowed,
    IReadOnlyList<DeliverySummary> Deliveries,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<PublishWarning>? Warnings);

/// <summary>
/// Asks Dispatch, in-process (<c>InvokeAsync&lt;TargetAddressCheck&gt;</c>), whether calls to a URL are known to be
/// refused by the address guard without resolving anything: a literal address or <c>localhost</c>. Read-only.
/// </summary>
/// <param name="Url">The target URL.</param>
public sealed record CheckTargetAddress(Uri Url);

/// <summary>The answer to <see cref="CheckTargetAddress"/>.</summary>
/// <param name="Refusal">Why every call to the URL would be refused, or null when that is not known before a call.</param>
public sealed record TargetAddressCheck(string? Refusal);

/// <summary>
/// Several entity events published at once: the body of <c>POST /events/batch</c>, and the in-process message
/// (<c>InvokeAsync&lt;PublishBatchResponse&gt;</c>). Each event is published as <c>POST /events</c> would publish it
/// (its own verdict and deliveries, its own <see cref="PublishEntityEvent.IdempotencyKey"/>), and every accepted
/// event is recorded in one commit.
/// </summary>
/// <param name="Events">1 to 1,000 events, answered in this order.</param>
public sealed record PublishEntityEvents(IReadOnlyList<PublishEntityEvent>? Events);

/// <summary>The answer to a batch: one result per event, in the order they were sent.</summary>
/// <param name="Results">What <c>POST /events</c> would have answered for each event, with its status code.</param>
public sealed record PublishBatchResponse(IReadOnlyList<PublishBatchResult> Results);

/// <summary>
/// One event's result in a batch: the body <c>POST /events</c> would have answered, with its status code as
/// <see cref="Status"/>: 202 or 200 with the event id and deliveries; otherwise a problem's fields (type, title, detail
/// and its other members, such as a validation problem's <c>errors</c>).
/// </summary>
public sealed record PublishBatchResult
{
    /// <summary>The HTTP status <c>POST /events</c> would have answered: 202, 200, 400, 403, 404, 409, 413, 422 or 503.</summary>
    public int Status { get; init; }

    /// <summary>The event's id (202, 200, 422).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Guid? EventId { get; init; }

    /// <summary>True on a 200 (synchronous webhooks answered, none vetoed).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Allowed { get; init; }

    /// <summary>One per matched webhook (202, 200, 422).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<DeliverySummary>? Deliveries { get; init; }

    /// <summary>Failed sync webhooks (200 only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<PublishWarning>? Warnings { get; init; }

    /// <summary>The problem's type (status 400 and above).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Type { get; init; }

    /// <summary>The problem's title.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Title { get; init; }

    /// <summary>The problem's detail: for a veto, the webhook's text.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }

    /// <summary>The problem's other members (<c>errors</c>, <c>webhook</c>, <c>statusCode</c>, <c>retryAfter</c>...).</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Extensions { get; init; }
}
