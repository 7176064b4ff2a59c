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

    /// <summary>The non-secret fields of its credential (none for httpBasic, whose username is <see cref="Username"/>).</summary>
    public KeyFacts Facts { get; init; } = KeyFacts.None;

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
        Facts = e.Facts ?? KeyFacts.None,
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
        Facts = e.Facts ?? Facts,
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

    public KeyView ToView() => new(
        Id, Name, Type, Description, Username, CreatedAt, UpdatedAt, SecretRotatedAt, Version, AllowedOrigins,
        Facts.HeaderName, Facts.TokenUrl, Facts.ClientId, Facts.Scope, Facts.Certificate);
}

/// <summary>The encrypted secret of a key: owned by KeySafe, replaced on rotation, deleted with the key.</summary>
public sealed class KeySecret
{
    public Guid Id { get; set; }
    public required SealedSecret Sealed { get; set; }
}

/// <summary>
/// A key's credential as sealed, whatever its type (the fields of other types are null): the shown fields travel inside
/// too, so a secret cannot be split from them or swapped. An httpBasic secret sealed before other types existed
/// (<c>{Username, Password}</c>) reads as this.
/// </summary>
public sealed record KeyMaterial(
    string? Username = null, string? Password = null, string? Token = null, string? HeaderName = null, string? Value = null,
    string? TokenUrl = null, string? ClientId = null, string? ClientSecret = null, string? Scope = null,
    string? CertificatePem = null, string? PrivateKeyPem = null, string? Pkcs12Base64 = null, string? Pkcs12Password = null)
{
    public override string ToString() => $"KeyMaterial {{ Username = {Username}, secrets = *** }}";

    /// <summary>The credential fields a creation gives.</summary>
    public static KeyMaterial Given(CreateKey r) => new(
        r.Username, r.Password, r.Token, r.HeaderName, r.Value, r.TokenUrl, r.ClientId, r.ClientSecret, r.Scope,
        r.CertificatePem, r.PrivateKeyPem, r.Pkcs12Base64, r.Pkcs12Password);

    /// <summary>The credential fields a rotation gives.</summary>
    public static KeyMaterial Given(RotateKeySecret r) => new(
        r.Username, r.Password, r.Token, r.HeaderName, r.Value, r.TokenUrl, r.ClientId, r.ClientSecret, r.Scope,
        r.CertificatePem, r.PrivateKeyPem, r.Pkcs12Base64, r.Pkcs12Password);
}
