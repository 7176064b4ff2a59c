namespace Webhooks.Dispatch.Contracts;

/// <summary>One call to a target, as the delivery log keeps it.</summary>
/// <param name="Number">1 for the first attempt.</param>
/// <param name="At">When it was made.</param>
/// <param name="StatusCode">The target's HTTP status, when it answered.</param>
/// <param name="DurationMs">How long the call took.</param>
/// <param name="ResponseExcerpt">The first 4 KiB of the answer.</param>
/// <param name="Error">What went wrong when there was no answer.</param>
/// <param name="RequestHeaders">The headers sent; <c>Authorization</c> redacted.</param>
public sealed record AttemptView(
    int Number, DateTimeOffset At, int? StatusCode, long DurationMs, string? ResponseExcerpt, string? Error,
    IReadOnlyDictionary<string, string> RequestHeaders);

/// <summary>A delivery of one event to one webhook, with all its attempts.</summary>
/// <param name="Id">The delivery's id: the <c>webhook-id</c> header.</param>
/// <param name="EventId">The published event.</param>
/// <param name="Webhook">The webhook's name when the event was published.</param>
/// <param name="Url">The target URL when the event was published.</param>
/// <param name="PostMode">The webhook's post mode.</param>
/// <param name="Status">One of <see cref="DeliveryStatuses"/>.</param>
/// <param name="Attempts">Every call, oldest first.</param>
/// <param name="NextAttemptAt">When the next retry is due, while one is.</param>
/// <param name="CreatedAt">When the delivery was created.</param>
/// <param name="Reason">Why it failed or was skipped.</param>
/// <param name="PayloadRemovedAt">
/// When retention removed its payload and its attempts' response excerpts (<c>Webhooks:Retention:Payloads</c>); it can
/// no longer be redelivered.
/// </param>
public sealed record DeliveryView(
    Guid Id, Guid EventId, string Webhook, string Url, string PostMode, string Status, IReadOnlyList<AttemptView> Attempts,
    DateTimeOffset? NextAttemptAt, DateTimeOffset CreatedAt, string? Reason, DateTimeOffset? PayloadRemovedAt = null);

/// <summary>A published event, its verdict and its deliveries.</summary>
/// <param name="EventId">The event's id.</param>
/// <param name="Application">The application that published it.</param>
/// <param name="EventSource">Its event source.</param>
/// <param name="PublishedAt">When it was accepted.</param>
/// <param name="Verdict">
/// <c>Accepted</c>, <c>Allowed</c> or <c>Rejected</c> (<see cref="PublishOutcome"/>), or <see cref="EventVerdicts.Test"/> for the
/// sample event of a webhook's test button, which no application published.
/// </param>
/// <param name="Deliveries">Its deliveries.</param>
/// <param name="Record">The record as the application published it (what was delivered).</param>
/// <param name="ActionBy">Who did it in the application (its <c>actionBy</c>), when given.</param>
/// <param name="ActionByName">Their name (its <c>actionByName</c>), when given.</param>
/// <param name="PublishedBy">The API key that published it.</param>
/// <param name="RecordRemovedAt">When retention removed its record (<c>Webhooks:Retention:Payloads</c>); <c>record</c> is null since.</param>
/// <param name="ArchivedAt">
/// When retention archived it with its deliveries (<c>Webhooks:Retention:Deliveries</c>): read from the archive, its
/// deliveries as they were then; <c>GET /deliveries/{id}</c> answers 410 for them.
/// </param>
public sealed record EventView(
    Guid EventId, string Application, string EventSource, DateTimeOffset PublishedAt, string Verdict, IReadOnlyList<DeliveryView> Deliveries,
    System.Text.Json.JsonElement? Record = null, string? ActionBy = null, string? ActionByName = null, string? PublishedBy = null,
    DateTimeOffset? RecordRemovedAt = null, DateTimeOffset? ArchivedAt = null);

/// <summary>The verdicts an <see cref="EventView"/> may carry besides a <see cref="PublishOutcome"/>.</summary>
public static class EventVerdicts
{
    /// <summary>The sample event sent by <c>POST /webhooks/{name}/test</c>: recorded for its delivery, never published.</summary>
    public const string Test = "Test";
}

/// <summary>The answer to <c>POST /webhooks/{name}/recover</c>.</summary>
/// <param name="Redelivered">How many failed deliveries were sent again.</param>
/// <param name="Deliveries">Their ids.</param>
public sealed record RecoverResult(int Redelivered, IReadOnlyList<Guid> Deliveries);

/// <summary>A webhook's delivery statistics over a time window.</summary>
/// <param name="Webhook">The webhook's name.</param>
/// <param name="From">The window's start (inclusive), when given.</param>
/// <param name="To">The window's end (exclusive), when given.</param>
/// <param name="Pending">Deliveries still pending.</param>
/// <param name="Succeeded">Deliveries that succeeded.</param>
/// <param name="Failed">Deliveries that failed.</param>
/// <param name="Skipped">Deliveries skipped (trigger not evaluable).</param>
/// <param name="SuccessRate">Succeeded / (succeeded + failed); null when neither happened.</param>
/// <param name="Attempts">Calls made.</param>
/// <param name="LatencyP50Ms">Median call duration.</param>
/// <param name="LatencyP95Ms">95th percentile call duration.</param>
/// <param name="LatencyP99Ms">99th percentile call duration.</param>
/// <param name="Series">With <c>buckets</c>: the window cut into that many equal buckets, oldest first.</param>
/// <param name="Health">The webhook's circuit breaker now (closed, open or halfOpen).</param>
public sealed record WebhookStats(
    string Webhook, DateTimeOffset? From, DateTimeOffset? To, int Pending, int Succeeded, int Failed, int Skipped, double? SuccessRate,
    int Attempts, double? LatencyP50Ms, double? LatencyP95Ms, double? LatencyP99Ms, IReadOnlyList<StatsBucket>? Series = null,
    Webhooks.Definitions.Contracts.WebhookHealth? Health = null);

/// <summary>Deliveries created in one bucket of a time window, by status.</summary>
/// <param name="From">The bucket's start.</param>
/// <param name="Succeeded">Deliveries that succeeded.</param>
/// <param name="Failed">Deliveries that failed.</param>
/// <param name="Pending">Deliveries still pending.</param>
public sealed record StatsBucket(DateTimeOffset From, int Succeeded, int Failed, int Pending);

/// <summary>How a webhook has been doing lately: its latest delivery and its last 100.</summary>
/// <param name="Webhook">The webhook's name.</param>
/// <param name="LastStatus">The latest delivery's status (<see cref="DeliveryStatuses"/>), if it had any.</param>
/// <param name="LastDeliveryAt">When the latest delivery was created.</param>
/// <param name="RecentSucceeded">Of its last 100 deliveries, those that succeeded.</param>
/// <param name="RecentFailed">Of its last 100 deliveries, those that failed.</param>
/// <param name="RecentSuccessRate">Succeeded / (succeeded + failed) over its last 100; null when neither happened.</param>
public sealed record WebhookActivity(
    string Webhook, string? LastStatus, DateTimeOffset? LastDeliveryAt, int RecentSucceeded, int RecentFailed, double? RecentSuccessRate);

/// <summary>Every webhook's deliveries over a time window: what the console's overview shows.</summary>
/// <param name="From">The window's start.</param>
/// <param name="To">The window's end.</param>
/// <param name="Pending">Deliveries still pending.</param>
/// <param name="Retrying">Pending deliveries waiting for a retry.</param>
/// <param name="Succeeded">Deliveries that succeeded.</param>
/// <param name="Failed">Deliveries that failed.</param>
/// <param name="Skipped">Deliveries skipped.</param>
/// <param name="SuccessRate">Succeeded / (succeeded + failed); null when neither happened.</param>
/// <param name="LatencyP50Ms">Median duration of each delivery's latest call.</param>
/// <param name="LatencyP95Ms">95th percentile of the same.</param>
/// <param name="LatencyP99Ms">99th percentile of the same.</param>
/// <param name="Series">The window in 24 equal buckets, oldest first.</param>
/// <param name="FailingMost">The webhooks with the most failed deliveries in the window, most first (at most 5).</param>
public sealed record DeliveryOverview(
    DateTimeOffset From, DateTimeOffset To, int Pending, int Retrying, int Succeeded, int Failed, int Skipped, double? SuccessRate,
    double? LatencyP50Ms, double? LatencyP95Ms, double? LatencyP99Ms, IReadOnlyList<StatsBucket> Series, IReadOnlyList<FailingWebhook> FailingMost);

/// <summary>A webhook and how many of its deliveries failed in a window.</summary>
/// <param name="Webhook">The webhook's name.</param>
/// <param name="Failed">Its failed deliveries.</param>
/// <param name="Total">All its deliveries in the window.</param>
public sealed record FailingWebhook(string Webhook, int Failed, int Total);

/// <summary>Body of <c>POST /webhooks/{name}/recover</c>.</summary>
/// <param name="Since">Failed deliveries created at or after this are redelivered.</param>
public sealed record RecoverWindow(DateTimeOffset? Since);

/// <summary>A request bin: a URL that stores whatever is sent to it, for testing webhooks without a third-party site.</summary>
/// <param name="Id">The bin's id.</param>
/// <param name="CaptureUrl">Send anything here (any method, no key); read it back from <c>GET /bins/{id}/requests</c>.</param>
/// <param name="ExpiresAt">When the bin and its requests are removed.</param>
public sealed record BinView(Guid Id, Uri CaptureUrl, DateTimeOffset ExpiresAt);

/// <summary>A request a bin captured.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Headers">Its headers; credentials (Authorization, Cookie, webhook-signature, API keys) redacted.</param>
/// <param name="Body">Its body, cut at the bin's size limit: text (UTF-8), or base64 when it was not storable text (see <paramref name="BodyEncoding"/>).</param>
/// <param name="Truncated">Whether the body was cut.</param>
/// <param name="At">When it arrived.</param>
/// <param name="BodyEncoding"><c>utf-8</c>, or <c>base64</c> for bytes that are not UTF-8 text (or hold NUL).</param>
/// <param name="HeadersTruncated">Whether headers were dropped at the bin's header size limit.</param>
public sealed record CapturedRequestView(
    string Method, IReadOnlyDictionary<string, string> Headers, string Body, bool Truncated, DateTimeOffset At,
    string BodyEncoding = "utf-8", bool HeadersTruncated = false);

/// <summary>The answer of <c>POST /webhooks/{name}/test</c>: the delivery made with the event source's sample record.</summary>
/// <param name="DeliveryId">The delivery (also in <c>GET /deliveries/{id}</c>).</param>
/// <param name="Status"><c>succeeded</c> or <c>failed</c>.</param>
/// <param name="Attempt">The call as it happened.</param>
public sealed record WebhookTestResult(Guid DeliveryId, string Status, AttemptView Attempt);
