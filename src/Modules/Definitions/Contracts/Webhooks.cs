namespace Webhooks.Definitions.Contracts;

/// <summary>How a webhook's body is written.</summary>
public static class PayloadFormats
{
    /// <summary><c>{"onEntityEvent": {...}}</c>, <c>application/json</c>.</summary>
    public const string Json = "json";

    /// <summary><c>&lt;onEntityEvent&gt;...&lt;/onEntityEvent&gt;</c>, <c>application/xml</c>.</summary>
    public const string Xml = "xml";

    /// <summary>Every format.</summary>
    public static IReadOnlyList<string> All { get; } = [Json, Xml];
}

/// <summary>When a webhook is called, and what its answer means.</summary>
public static class PostModes
{
    /// <summary>In the background, retried on a schedule; the publisher is answered at once.</summary>
    public const string Async = "async";

    /// <summary>At once; a failure is a warning to the publisher, the action goes ahead. Not retried.</summary>
    public const string Sync = "sync";

    /// <summary>At once; anything but a 2xx (timeout and unreachable included) vetoes the action.</summary>
    public const string SyncCritical = "syncCritical";

    /// <summary>Every mode.</summary>
    public static IReadOnlyList<string> All { get; } = [Async, Sync, SyncCritical];
}

/// <summary>Body of <c>POST /webhooks</c> and <c>PUT /webhooks/{name}</c> (a full definition).</summary>
/// <param name="Name">Unique among live webhooks; letters, digits, '.', '_', '-' (no spaces).</param>
/// <param name="Description">What it is for.</param>
/// <param name="Application">The application whose events it follows (must be in the catalog).</param>
/// <param name="EventSource">The application's event source (must be in the catalog).</param>
/// <param name="Enabled">Whether it is called; true when absent.</param>
/// <param name="KeySafeKeyId">The KeySafe key (type httpBasic) to authenticate with, as Hornbill's form offers it.</param>
/// <param name="Url">The target: an absolute http or https URL, without credentials in it.</param>
/// <param name="PayloadFormat"><see cref="PayloadFormats.Json"/> or <see cref="PayloadFormats.Xml"/>.</param>
/// <param name="PostMode">One of <see cref="PostModes.All"/>.</param>
/// <param name="TriggerExpression">A filter such as <c>LEFT(h_name) = 'G' AND h_email NOT NULL</c>; every event when absent.</param>
/// <param name="Headers">
/// Custom headers sent with every call: <c>{"X-Name": "value"}</c>, or <c>{"X-Name": {"keySafeKeyId": "&lt;id&gt;"}}</c> for a
/// value kept sealed in KeySafe (a bearer key's token or an apiKeyHeader key's value). At most 20; the headers every call
/// sets (<c>webhook-*</c>, <c>Content-Type</c>, <c>Host</c>, <c>User-Agent</c>, hop-by-hop ones, <c>Authorization</c> when the
/// webhook's key sets it) are refused.
/// </param>
/// <param name="Authentication">
/// A KeySafe key of any type to authenticate with (<c>{"keySafeKeyId": "..."}</c>): the richer types than Hornbill's
/// httpBasic (bearer, apiKeyHeader, oauth2ClientCredentials, mtls). Instead of <paramref name="KeySafeKeyId"/>.
/// </param>
/// <param name="RateLimit">At most so many async calls a second to the target, across the cluster (<c>{perSecond, burst?}</c>).</param>
/// <param name="MaxConcurrency">At most so many async calls in flight at once to the target for this webhook (1-256; the host's per-target default otherwise).</param>
/// <param name="Ordering">Ordered delivery by a record field (<c>{enabled, key?}</c>).</param>
public sealed record DefineWebhook(
    string? Name,
    string? Description,
    string? Application,
    string? EventSource,
    bool? Enabled,
    Guid? KeySafeKeyId,
    string? Url,
    string? PayloadFormat,
    string? PostMode,
    string? TriggerExpression,
    IReadOnlyDictionary<string, HeaderValue>? Headers = null,
    WebhookAuthentication? Authentication = null,
    RateLimit? RateLimit = null,
    int? MaxConcurrency = null,
    Ordering? Ordering = null);

/// <summary>
/// Ordered delivery: the async deliveries whose records have the same value in the field <paramref name="Key"/> reach
/// the target in publish order, one at a time; a failing one holds back the later ones of its key (not of other keys)
/// until it succeeds or fails for good.
/// </summary>
/// <param name="Enabled">Whether deliveries are ordered.</param>
/// <param name="Key">The record's field whose value orders them; by default the record's first <c>h_pk_*</c> field (its primary key).</param>
public sealed record Ordering(bool Enabled, string? Key = null);

/// <summary>
/// At most <paramref name="PerSecond"/> calls a second to a webhook's target, across every host sharing the database,
/// with bursts of up to <paramref name="Burst"/> (a token bucket).
/// </summary>
/// <param name="PerSecond">Calls per second, more than 0 and at most 10,000 (fractions allowed: 0.5 is one call every two seconds).</param>
/// <param name="Burst">How many calls may go at once after a quiet spell; by default one second's worth (at least 1).</param>
public sealed record RateLimit(double? PerSecond, int? Burst = null);

/// <summary>
/// How a webhook authenticates beyond Hornbill's HTTP Basic: a KeySafe key of any type (bearer, apiKeyHeader,
/// oauth2ClientCredentials, mtls, or httpBasic too). Instead of <c>keySafeKeyId</c>, not beside it.
/// </summary>
/// <param name="KeySafeKeyId">The KeySafe key.</param>
public sealed record WebhookAuthentication(Guid? KeySafeKeyId);

/// <summary>A webhook's definition as the API shows it and as other modules receive it.</summary>
/// <param name="Id">Its id (a deleted webhook's name may be reused by a new webhook with a new id).</param>
/// <param name="Name">Its name, by which the API addresses it.</param>
/// <param name="Description">What it is for.</param>
/// <param name="Application">The application whose events it follows.</param>
/// <param name="EventSource">The event source it follows.</param>
/// <param name="Enabled">Whether it is called.</param>
/// <param name="DisabledReason">Why it was disabled, when it is (e.g. the target answered 410 Gone).</param>
/// <param name="KeySafeKeyId">The KeySafe key it authenticates with, if any.</param>
/// <param name="Url">The target URL.</param>
/// <param name="PayloadFormat">One of <see cref="PayloadFormats.All"/>.</param>
/// <param name="PostMode">One of <see cref="PostModes.All"/>.</param>
/// <param name="TriggerExpression">Its filter, if any.</param>
/// <param name="Version">The number of changes made to it so far; send it back in <c>If-Match</c>.</param>
/// <param name="CreatedAt">When it was defined.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="Headers">Its custom headers (values held in KeySafe are shown as their key reference only).</param>
/// <param name="Health">Its target's health as the circuit breaker sees it (absent: closed, never opened).</param>
/// <param name="Authentication">The KeySafe key of any type it authenticates with, when not Hornbill's <c>keySafeKeyId</c>.</param>
/// <param name="RateLimit">Its rate limit, if any.</param>
/// <param name="MaxConcurrency">Its limit of calls in flight, if any.</param>
/// <param name="Ordering">Its ordered delivery, if enabled.</param>
public sealed record WebhookDefinition(
    Guid Id,
    string Name,
    string? Description,
    string Application,
    string EventSource,
    bool Enabled,
    string? DisabledReason,
    Guid? KeySafeKeyId,
    string Url,
    string PayloadFormat,
    string PostMode,
    string? TriggerExpression,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyDictionary<string, HeaderValue>? Headers = null,
    WebhookHealth? Health = null,
    WebhookAuthentication? Authentication = null,
    RateLimit? RateLimit = null,
    int? MaxConcurrency = null,
    Ordering? Ordering = null)
{
    /// <summary>The key it authenticates with, whichever field names it.</summary>
    public Guid? AuthenticationKeyId => KeySafeKeyId ?? Authentication?.KeySafeKeyId;
}

/// <summary>The states of a webhook's circuit breaker.</summary>
public static class BreakerStates
{
    /// <summary>Deliveries are made.</summary>
    public const string Closed = "closed";

    /// <summary>Too many failures in a row: deliveries wait (neither failed nor dropped) until the next probe.</summary>
    public const string Open = "open";

    /// <summary>Open, and its cool-down is over: one delivery is let through as a probe; a success closes the breaker.</summary>
    public const string HalfOpen = "halfOpen";
}

/// <summary>A webhook's target as its circuit breaker sees it.</summary>
/// <param name="Breaker">One of <see cref="BreakerStates"/>.</param>
/// <param name="ConsecutiveFailures">Failed attempts in a row that opened the breaker, failed probes included (0 while closed).</param>
/// <param name="OpenedAt">When it opened, while open.</param>
/// <param name="NextProbeAt">When the next probe may be made, while open.</param>
/// <param name="FailingSince">The first failure of the run that opened it, while open (auto-disable counts from it).</param>
/// <param name="LastError">What the last failed attempt came to, while open.</param>
public sealed record WebhookHealth(
    string Breaker, int ConsecutiveFailures, DateTimeOffset? OpenedAt = null, DateTimeOffset? NextProbeAt = null,
    DateTimeOffset? FailingSince = null, string? LastError = null)
{
    /// <summary>A closed breaker.</summary>
    public static WebhookHealth Closed { get; } = new(BreakerStates.Closed, 0);

    /// <summary>Whether deliveries wait (open or half-open).</summary>
    public bool IsOpen => Breaker != BreakerStates.Closed;

    /// <summary>As it reads at <paramref name="now"/>: an open breaker whose cool-down is over is half-open.</summary>
    public WebhookHealth At(DateTimeOffset now) =>
        IsOpen && NextProbeAt <= now ? this with { Breaker = BreakerStates.HalfOpen } : this;
}

/// <summary>
/// From Dispatch: the webhook's target failed <paramref name="ConsecutiveFailures"/> times in a row (or its probe failed):
/// its breaker opens (again), deliveries wait until <paramref name="NextProbeAt"/>. Recorded by <c>system</c>.
/// </summary>
public sealed record OpenBreaker(
    Guid WebhookId, int ConsecutiveFailures, DateTimeOffset FailingSince, DateTimeOffset NextProbeAt, string? LastError);

/// <summary>From Dispatch: a probe succeeded; the breaker closes and the waiting deliveries go. Recorded by <c>system</c>.</summary>
public sealed record CloseBreaker(Guid WebhookId);

/// <summary>
/// Published (outbox) when a webhook's breaker change is recorded in its history: once per change, whichever host asked
/// for it (operators are told from this).
/// </summary>
/// <param name="WebhookId">The webhook.</param>
/// <param name="Name">Its name.</param>
/// <param name="Url">Its target.</param>
/// <param name="Opened">Opened (again), or closed.</param>
/// <param name="ConsecutiveFailures">Failed attempts in a row, when opened.</param>
/// <param name="FailingSince">Since when the target fails, when opened.</param>
/// <param name="NextProbeAt">The next probe, when opened.</param>
/// <param name="LastError">The last failure, when opened.</param>
/// <param name="At">When.</param>
public sealed record WebhookBreakerChanged(
    Guid WebhookId, string Name, string Url, bool Opened, int ConsecutiveFailures, DateTimeOffset? FailingSince, DateTimeOffset? NextProbeAt,
    string? LastError, DateTimeOffset At);

/// <summary>Published (outbox) when the system disabled a webhook (a 410, a target failing too long, its key deleted): once.</summary>
/// <param name="WebhookId">The webhook.</param>
/// <param name="Name">Its name.</param>
/// <param name="Url">Its target.</param>
/// <param name="Reason">Why.</param>
/// <param name="At">When.</param>
public sealed record WebhookDisabledBySystem(Guid WebhookId, string Name, string Url, string Reason, DateTimeOffset At);

/// <summary>What becomes of a webhook's parked deliveries (those that came due while it was disabled) when it is enabled.</summary>
public static class PendingOnEnable
{
    /// <summary>They are made now, with their own webhook-id, and retried as usual (the default).</summary>
    public const string Resume = "resume";

    /// <summary>They fail, saying why (recoverable later with <c>POST /webhooks/{name}/recover</c>).</summary>
    public const string Fail = "fail";

    /// <summary>Both choices.</summary>
    public static IReadOnlyList<string> All { get; } = [Resume, Fail];
}

/// <summary>
/// Published (outbox) with a webhook's enabling: Dispatch resumes or fails its parked deliveries, as
/// <paramref name="Pending"/> says, once it knows the webhook at <paramref name="Version"/> (enabled).
/// </summary>
/// <param name="WebhookId">The webhook.</param>
/// <param name="Version">Its version after the enabling.</param>
/// <param name="Pending">One of <see cref="PendingOnEnable.All"/>.</param>
/// <param name="Actor">Who enabled it.</param>
/// <param name="Pass">1, then 2 a few seconds later (a delivery parked while the first pass ran is taken by the second).</param>
public sealed record ParkedDeliveriesOnEnable(Guid WebhookId, long Version, string Pending, string Actor, int Pass = 1);

/// <summary>A field's value before and after a change (as text; null when unset).</summary>
/// <param name="Field">The field, as named in the API.</param>
/// <param name="From">Its value before.</param>
/// <param name="To">Its value after.</param>
public sealed record FieldChange(string Field, string? From, string? To);

/// <summary>One change in a webhook's history.</summary>
/// <param name="Version">The webhook's version after the change.</param>
/// <param name="EventType"><c>defined</c>, <c>updated</c>, <c>enabled</c>, <c>disabled</c>, <c>signingSecretRotated</c> or <c>deleted</c>.</param>
/// <param name="At">When.</param>
/// <param name="Actor">Who: an API key's name, or <c>system</c>.</param>
/// <param name="Changes">What changed, field by field.</param>
/// <param name="Reason">Why, when one was given (disabling).</param>
public sealed record WebhookChange(long Version, string EventType, DateTimeOffset At, string Actor, IReadOnlyList<FieldChange> Changes, string? Reason);

/// <summary>
/// A webhook's signing secrets (Standard Webhooks: <c>whsec_</c> + base64 of 32 random bytes). During a rotation's
/// grace period receivers may see signatures by either.
/// </summary>
/// <param name="Secret">The current secret.</param>
/// <param name="PreviousSecret">The secret before the last rotation, while it still signs.</param>
/// <param name="PreviousValidUntil">Until when the previous secret signs.</param>
public sealed record SigningSecretView(string Secret, string? PreviousSecret, DateTimeOffset? PreviousValidUntil)
{
    /// <summary>Never prints a secret.</summary>
    public override string ToString() => $"SigningSecretView {{ Secret = ***, PreviousValidUntil = {PreviousValidUntil} }}";
}

/// <summary>
/// Published (outbox) whenever a webhook is defined or changed (enabled and disabled included), carrying its whole
/// current definition. Consumers keep the newest version per webhook and ignore older ones.
/// </summary>
/// <param name="Webhook">The definition after the change.</param>
public sealed record WebhookChanged(WebhookDefinition Webhook);

/// <summary>Published (outbox) when a webhook is deleted.</summary>
/// <param name="WebhookId">The webhook's id.</param>
/// <param name="Name">Its name.</param>
/// <param name="Version">Its version after the deletion.</param>
public sealed record WebhookRemoved(Guid WebhookId, string Name, long Version);

/// <summary>A command to Definitions (e.g. from Dispatch after a 410 Gone): disable a webhook, as <c>system</c>.</summary>
/// <param name="WebhookId">The webhook.</param>
/// <param name="Reason">Why, for its history.</param>
public sealed record DisableWebhook(Guid WebhookId, string Reason);

/// <summary>
/// Asks Definitions for a webhook's signing secrets, as its history says which ones sign (in-process,
/// <c>InvokeAsync&lt;Webhooks.KeySafe.Contracts.SigningSecrets&gt;</c>, which KeySafe derives). Read-only.
/// </summary>
/// <param name="WebhookId">The webhook.</param>
public sealed record ResolveWebhookSigningSecrets(Guid WebhookId);

/// <summary>Body of <c>POST /trigger-expressions/check</c>.</summary>
/// <param name="Expression">The trigger expression to check.</param>
/// <param name="Application">With <paramref name="EventSource"/>: evaluate against that event source's sample record.</param>
/// <param name="EventSource">The event source whose sample record to try.</param>
/// <param name="Record">Or a record to try it on (a JSON object), which wins over the sample record.</param>
public sealed record CheckTriggerExpression(
    string? Expression, string? Application = null, string? EventSource = null, System.Text.Json.JsonElement? Record = null);

/// <summary>What <c>POST /trigger-expressions/check</c> found.</summary>
/// <param name="Valid">Whether it parses.</param>
/// <param name="Position">When it does not: the 1-based character position of the problem.</param>
/// <param name="Error">When it does not: why.</param>
/// <param name="Tried">Whether it was evaluated (a record or a sample record was there to try).</param>
/// <param name="Matches">When tried: whether that record matches.</param>
/// <param name="EvaluationError">When tried and it could not be evaluated for that record: why (the webhook would be skipped).</param>
public sealed record TriggerExpressionCheck(bool Valid, int? Position, string? Error, bool Tried, bool? Matches, string? EvaluationError);
