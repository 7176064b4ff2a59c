using Webhooks.Definitions.Contracts;

namespace Webhooks.Definitions.Hooks;

// A webhook's stream. No event carries a secret: the signing secret and the KeySafe credential live in KeySafe.

/// <summary>Defined. <paramref name="SigningDerived"/>: its signing secret is derived (false in events written before).</summary>
public sealed record WebhookDefined(
    Guid WebhookId, string Name, string? Description, string Application, string EventSource, bool Enabled,
    Guid? KeySafeKeyId, string Url, string PayloadFormat, string PostMode, string? TriggerExpression,
    string Actor, DateTimeOffset At, bool SigningDerived = false);

/// <summary>A full update: the whole new definition, and each field that changed with its old and new value.</summary>
public sealed record WebhookUpdated(
    Guid WebhookId, string Name, string? Description, string Application, string EventSource, bool Enabled,
    Guid? KeySafeKeyId, string Url, string PayloadFormat, string PostMode, string? TriggerExpression,
    IReadOnlyList<FieldChange> Changes, string Actor, DateTimeOffset At);

public sealed record WebhookEnabled(Guid WebhookId, string Actor, DateTimeOffset At);

/// <summary>Disabled by an admin, or by the system (actor "system") e.g. after the target answered 410 Gone.</summary>
public sealed record WebhookDisabled(Guid WebhookId, string? Reason, string Actor, DateTimeOffset At);

/// <summary>
/// A new signing secret: derived generation <paramref name="Generation"/>; the previous one signs beside it until
/// <paramref name="PreviousValidUntil"/>. Generation 0: rotated before derivation (KeySafe stored the new secret).
/// </summary>
public sealed record WebhookSigningSecretRotated(Guid WebhookId, DateTimeOffset PreviousValidUntil, string Actor, DateTimeOffset At, long Generation = 0);

public sealed record WebhookDeleted(Guid WebhookId, string Name, string Actor, DateTimeOffset At);
