using Webhooks.KeySafe.Contracts;

namespace Webhooks.KeySafe.Keys;

// Events are forever: none carries a secret, encrypted or not. The ciphertext lives in KeySecret, which rotation
// replaces and deletion destroys.

/// <summary>Created; <paramref name="Facts"/>: the non-secret fields of its credential (null in events before other types existed).</summary>
public sealed record KeyCreated(
    Guid KeyId, string Name, string Type, string? Description, string? Username, string Actor, DateTimeOffset At,
    IReadOnlyList<string>? AllowedOrigins = null, KeyFacts? Facts = null);

/// <summary>Name, description or bound origins changed; each carries its new value (origins null in events before they existed).</summary>
public sealed record KeyDetailsChanged(
    Guid KeyId, string Name, string? Description, IReadOnlyList<string> ChangedFields, string Actor, DateTimeOffset At,
    IReadOnlyList<string>? AllowedOrigins = null);

/// <summary>
/// The secret was replaced; says so, with the credential's new non-secret fields and which of them changed with it
/// (<paramref name="Changed"/>, null in events before other types existed: then <paramref name="UsernameChanged"/> says).
/// </summary>
public sealed record KeySecretRotated(
    Guid KeyId, string? Username, bool UsernameChanged, string Actor, DateTimeOffset At, KeyFacts? Facts = null,
    IReadOnlyList<string>? Changed = null);

public sealed record KeyDeleted(Guid KeyId, string Name, string Actor, DateTimeOffset At);
