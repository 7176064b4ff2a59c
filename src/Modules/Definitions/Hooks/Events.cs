using Webhooks.Definitions.Contracts;

namespace Webhooks.Definitions.Hooks;

// A webhook's stream. No event carries a secret: the signing secret and the KeySafe credential live in KeySafe.

/// <summary>
/// What a webhook holds beyond Hornbill's definition (custom headers; flow control and ordering to come), in one part
/// of its events: absent in events written before these existed, which then mean none.
/// </summary>
/// <param name="Headers">Custom headers by name; null when none.</param>
/// <param name="Authentication">A KeySafe key of any type to authenticate with, instead of Hornbill's httpBasic key.</param>
/// <param name="RateLimit">Calls a second to its target, across the cluster.</param>
/// <param name="MaxConcurrency">Calls in flight to its target.</param>
/// <param name="Ordering">Ordered delivery by a record field, when enabled.</param>
public sealed record WebhookSettings(
    IReadOnlyDictionary<string, HeaderValue>? Headers = null, WebhookAuthentication? Authentication = null, RateLimit? RateLimit = null,
    int? MaxConcurrency = null, Ordering? Ordering = null)
{
    public static WebhookSettings None { get; } = new();

    /// <summary>The API's names of its fields.</summary>
    public static IReadOnlySet<string> FieldNames { get; } = new HashSet<string>(None.Fields().Select(f => f.Field), StringComparer.Ordinal);

    public static WebhookSettings Of(DefineWebhook request) => new(
        request.Headers is { Count: > 0 } headers ? headers : null,
        request.Authentication?.KeySafeKeyId is null ? null : request.Authentication,
        request.RateLimit is { PerSecond: { } perSecond } limit
            ? limit with { Burst = limit.Burst ?? Math.Max(1, (int)Math.Ceiling(perSecond)) }
            : null,
        request.MaxConcurrency,
        request.Ordering is { Enabled: true } ordering ? ordering with { Key = string.IsNullOrWhiteSpace(ordering.Key) ? null : ordering.Key } : null);

    /// <summary>The KeySafe keys it uses: to authenticate, and for its headers' values.</summary>
    public IEnumerable<Guid> Keys => (Headers?.Values ?? []).Select(v => v.KeySafeKeyId).Append(Authentication?.KeySafeKeyId).OfType<Guid>();

    /// <summary>Its fields as text, in the API's names, for the history's before and after (headers by name, in order).</summary>
    public IReadOnlyList<(string Field, string? Value)> Fields() =>
    [
        ("headers", Headers is { Count: > 0 } headers
            ? string.Join(", ", headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase).Select(h => $"{h.Key}: {h.Value}"))
            : null),
        ("authentication.keySafeKeyId", Authentication?.KeySafeKeyId?.ToString()),
        ("rateLimit", RateLimit is { } limit
            ? $"{limit.PerSecond?.ToString(System.Globalization.CultureInfo.InvariantCulture)}/s, burst {limit.Burst}"
            : null),
        ("maxConcurrency", MaxConcurrency?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("ordering", Ordering is { Enabled: true } ordering ? $"by {ordering.Key ?? "the record's h_pk_* field"}" : null),
    ];
}

/// <summary>Defined. <paramref name="SigningDerived"/>: its signing secret is derived (false in events written before).</summary>
public sealed record WebhookDefined(
    Guid WebhookId, string Name, string? Description, string Application, string EventSource, bool Enabled,
    Guid? KeySafeKeyId, string Url, string PayloadFormat, string PostMode, string? TriggerExpression,
    string Actor, DateTimeOffset At, bool SigningDerived = false, WebhookSettings? Settings = null);

/// <summary>A full update: the whole new definition, and each field that changed with its old and new value.</summary>
public sealed record WebhookUpdated(
    Guid WebhookId, string Name, string? Description, string Application, string EventSource, bool Enabled,
    Guid? KeySafeKeyId, string Url, string PayloadFormat, string PostMode, string? TriggerExpression,
    IReadOnlyList<FieldChange> Changes, string Actor, DateTimeOffset At, WebhookSettings? Settings = null);

/// <summary>Enabled; <paramref name="Pending"/>: what became of its parked deliveries (null in events before parking existed).</summary>
public sealed record WebhookEnabled(Guid WebhookId, string Actor, DateTimeOffset At, string? Pending = null);

/// <summary>Disabled by an admin, or by the system (actor "system") e.g. after the target answered 410 Gone.</summary>
public sealed record WebhookDisabled(Guid WebhookId, string? Reason, string Actor, DateTimeOffset At);

/// <summary>
/// A new signing secret: derived generation <paramref name="Generation"/>; the previous one signs beside it until
/// <paramref name="PreviousValidUntil"/>. Generation 0: rotated before derivation (KeySafe stored the new secret).
/// </summary>
public sealed record WebhookSigningSecretRotated(Guid WebhookId, DateTimeOffset PreviousValidUntil, string Actor, DateTimeOffset At, long Generation = 0);

/// <summary>Its target failed too often in a row (or a probe failed): deliveries wait until <paramref name="NextProbeAt"/>.</summary>
public sealed record WebhookBreakerOpened(
    Guid WebhookId, int ConsecutiveFailures, DateTimeOffset FailingSince, DateTimeOffset NextProbeAt, string? LastError, string Actor, DateTimeOffset At);

/// <summary>A probe succeeded: deliveries are made again.</summary>
public sealed record WebhookBreakerClosed(Guid WebhookId, string Actor, DateTimeOffset At);

public sealed record WebhookDeleted(Guid WebhookId, string Name, string Actor, DateTimeOffset At);
