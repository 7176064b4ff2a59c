using Webhooks.KeySafe.Contracts;
using Webhooks.KeySafe.Crypto;

namespace Webhooks.KeySafe.Keys;

/// <summary>A credential's public face: one event stream per key, snapshotted inline; deleted with the key.</summary>
public sealed record Key
{
    public Guid Id { get; init; }
    public required string Name { get; init; }

    /// <summary>The name as compared for uniqueness (case-insensitively).</summary>
    public required string NormalizedName { get; init; }

    public required string Type { get; init; }
    public string? Description { get; init; }
    public string? Username { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset SecretRotatedAt { get; init; }

    /// <summary>The only origins the key may be sent to; empty: any.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    public long Version { get; set; }

    public static string Normalize(string name) => name.Trim().ToUpperInvariant();

    public static Key Create(KeyCreated e) => new()
    {
        Id = e.KeyId,
        Name = e.Name,
        NormalizedName = Normalize(e.Name),
        Type = e.Type,
        Description = e.Description,
        Username = e.Username,
        CreatedAt = e.At,
        UpdatedAt = e.At,
        SecretRotatedAt = e.At,
        AllowedOrigins = e.AllowedOrigins ?? [],
        Version = 1,
    };

    public Key Apply(KeyDetailsChanged e) => this with
    {
        Name = e.Name,
        NormalizedName = Normalize(e.Name),
        Description = e.Description,
        AllowedOrigins = e.AllowedOrigins ?? AllowedOrigins,
        UpdatedAt = e.At,
    };

    public Key Apply(KeySecretRotated e) => this with
    {
        Username = e.Username,
        UpdatedAt = e.At,
        SecretRotatedAt = e.At,
    };

    /// <summary>
    /// The key after one more change, for an answer before Marten has applied it. The version is counted here only:
    /// Marten sets the snapshot's <see cref="Version"/> to its stream's, so Apply leaves it alone.
    /// </summary>
    public static Key Next(Key key, object e) => (e switch
    {
        KeyDetailsChanged changed => key.Apply(changed),
        KeySecretRotated rotated => key.Apply(rotated),
        _ => throw new ArgumentException($"A key cannot change by {e.GetType().Name}.", nameof(e)),
    }) with { Version = key.Version + 1 };

#pragma warning disable CA1822, IDE0060 // Marten's convention: the snapshot is deleted when this answers true.
    public bool ShouldDelete(KeyDeleted e) => true;
#pragma warning restore CA1822, IDE0060

    public KeyView ToView() => new(Id, Name, Type, Description, Username, CreatedAt, UpdatedAt, SecretRotatedAt, Version, AllowedOrigins);
}

/// <summary>The encrypted secret of a key: owned by KeySafe, replaced on rotation, deleted with the key.</summary>
public sealed class KeySecret
{
    public Guid Id { get; set; }
    public required SealedSecret Sealed { get; set; }
}

/// <summary>An httpBasic secret as sealed: the username travels inside too, so the pair cannot be split or swapped.</summary>
public sealed record HttpBasicSecret(string Username, string Password)
{
    public override string ToString() => $"HttpBasicSecret {{ Username = {Username}, Password = *** }}";
}
