namespace Webhooks.KeySafe.Keys;

// Events are forever: none carries a secret, encrypted or not. The ciphertext lives in KeySecret, which rotation
// replaces and deletion destroys.

public sealed record KeyCreated(
    Guid KeyId, string Name, string Type, string? Description, string? Username, string Actor, DateTimeOffset At,
    IReadOnlyList<string>? AllowedOrigins = null);

/// <summary>Name, description or bound origins changed; each carries its new value (origins null in events before they existed).</summary>
public sealed record KeyDetailsChanged(
    Guid KeyId, string Name, string? Description, IReadOnlyList<string> ChangedFields, string Actor, DateTimeOffset At,
    IReadOnlyList<string>? AllowedOrigins = null);

/// <summary>The secret was replaced; says so, and whether the (non-secret) username changed with it.</summary>
public sealed record KeySecretRotated(Guid KeyId, string? Username, bool UsernameChanged, string Actor, DateTimeOffset At);

public sealed record KeyDeleted(Guid KeyId, string Name, string Actor, DateTimeOffset At);
