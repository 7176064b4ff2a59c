namespace Webhooks.KeySafe.Contracts;

/// <summary>
/// Asks KeySafe what a key is (in-process, <c>InvokeAsync&lt;KeyDescription&gt;</c>). Read-only; never a secret.
/// </summary>
/// <param name="KeyId">The key's id.</param>
public sealed record DescribeKey(Guid KeyId);

/// <summary>What a key is, or that there is no such key.</summary>
/// <param name="KeyId">The key asked about.</param>
/// <param name="Exists">False when no live key has that id.</param>
/// <param name="Name">Its name, when it exists.</param>
/// <param name="Type">Its type (<see cref="KeyTypes"/>), when it exists.</param>
/// <param name="AllowedOrigins">The only origins it may be sent to; empty or null: any.</param>
/// <param name="HeaderName">apiKeyHeader: the header it is sent in.</param>
public sealed record KeyDescription(
    Guid KeyId, bool Exists, string? Name, string? Type, IReadOnlyList<string>? AllowedOrigins = null, string? HeaderName = null);

/// <summary>
/// Asks KeySafe for a key's credential, decrypted in memory only (in-process, <c>InvokeAsync&lt;Credential&gt;</c>).
/// Never send this or its answer over a durable or external transport.
/// </summary>
/// <param name="KeyId">The key's id.</param>
public sealed record ResolveCredential(Guid KeyId);

/// <summary>
/// A decrypted credential, in its type's fields (<see cref="KeyTypes"/>); the others are null. In memory only: never log,
/// store or return it. Its <see cref="ToString"/> never shows a secret.
/// </summary>
/// <param name="KeyId">The key it came from.</param>
/// <param name="Found">False when there is no live key with that id (or its secret cannot be read).</param>
/// <param name="Type">The key's type.</param>
/// <param name="AllowedOrigins">The only origins it may be sent to; empty or null: any.</param>
/// <param name="Username">httpBasic.</param>
/// <param name="Password">httpBasic.</param>
/// <param name="Token">bearer.</param>
/// <param name="HeaderName">apiKeyHeader.</param>
/// <param name="Value">apiKeyHeader.</param>
/// <param name="TokenUrl">oauth2ClientCredentials.</param>
/// <param name="ClientId">oauth2ClientCredentials.</param>
/// <param name="ClientSecret">oauth2ClientCredentials.</param>
/// <param name="Scope">oauth2ClientCredentials.</param>
/// <param name="ClientCertificate">mtls: the certificate with its private key, loaded.</param>
public sealed record Credential(
    Guid KeyId, bool Found, string? Type = null, IReadOnlyList<string>? AllowedOrigins = null,
    string? Username = null, string? Password = null, string? Token = null, string? HeaderName = null, string? Value = null,
    string? TokenUrl = null, string? ClientId = null, string? ClientSecret = null, string? Scope = null,
    System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate = null)
{
    /// <summary>No such key.</summary>
    public static Credential Missing(Guid keyId) => new(keyId, false);

    /// <summary>The one value a custom header may carry: a bearer key's token, an apiKeyHeader key's value.</summary>
    public string? HeaderValue => Type switch
    {
        KeyTypes.Bearer => Token,
        KeyTypes.ApiKeyHeader => Value,
        _ => null,
    };

    /// <summary>Never prints a secret.</summary>
    public override string ToString() => $"Credential {{ KeyId = {KeyId}, Found = {Found}, Type = {Type}, Username = {Username}, secrets = *** }}";
}

/// <summary>
/// Records that a holder (e.g. a webhook) uses a key, so the key cannot be deleted while it does. Sent through the
/// outbox in the same transaction as the holder's own change (never a synchronous write of its own): the change and
/// its hold commit together or not at all. A key deleted before the hold arrives answers <see cref="KeyHoldRefused"/>.
/// Holds and releases may arrive out of order: the highest <paramref name="Version"/> per key and holder wins.
/// </summary>
/// <param name="KeyId">The key.</param>
/// <param name="HolderId">Who holds it (any id unique across holders).</param>
/// <param name="HolderName">Shown when the key's deletion is refused.</param>
/// <param name="Version">The holder's version after the change that holds the key.</param>
public sealed record HoldKey(Guid KeyId, Guid HolderId, string HolderName, long Version);

/// <summary>The holder no longer uses the key (outbox, like <see cref="HoldKey"/>).</summary>
/// <param name="KeyId">The key.</param>
/// <param name="HolderId">Who held it.</param>
/// <param name="Version">The holder's version after the change that let the key go.</param>
public sealed record ReleaseKey(Guid KeyId, Guid HolderId, long Version);

/// <summary>
/// KeySafe's answer (outbox) to a <see cref="HoldKey"/> for a key that was deleted meanwhile: the holder must stop
/// relying on it (a webhook is disabled with the reason).
/// </summary>
/// <param name="KeyId">The key.</param>
/// <param name="HolderId">The holder that asked.</param>
/// <param name="HolderVersion">The holder's version the hold was for (not named Version: that would be read as the holder stream's expected version).</param>
/// <param name="Reason">Why, in words for the holder's history.</param>
public sealed record KeyHoldRefused(Guid KeyId, Guid HolderId, long HolderVersion, string Reason);

/// <summary>Published (outbox) when a key's secret was rotated: drop any cached credential of it.</summary>
/// <param name="KeyId">The key.</param>
/// <param name="Version">The key's version after the rotation.</param>
public sealed record KeySecretChanged(Guid KeyId, long Version);

/// <summary>Published (outbox) when the origins a key may be sent to changed: drop any cached credential of it.</summary>
/// <param name="KeyId">The key.</param>
/// <param name="Version">The key's version after the change.</param>
public sealed record KeyBindingChanged(Guid KeyId, long Version);

/// <summary>Published (outbox) when a key was deleted: drop any cached credential of it.</summary>
/// <param name="KeyId">The key.</param>
public sealed record KeyRemoved(Guid KeyId);

/// <summary>
/// Which signing secret a holder uses: generation <paramref name="Generation"/> of the secrets KeySafe derives for it
/// (a rotation is a new generation, recorded by the holder's own history, so KeySafe writes nothing). A holder
/// whose secret was issued and stored before secrets were derived keeps that stored secret (<paramref name="Stored"/>)
/// until its first rotation.
/// </summary>
/// <param name="Generation">The current generation (0 when never rotated since derivation).</param>
/// <param name="PreviousValidUntil">Until when the previous generation still signs, after a rotation.</param>
/// <param name="Stored">The current secret is the stored one issued before derivation.</param>
/// <param name="PreviousStored">The previous secret is the stored one (the first rotation after derivation).</param>
public sealed record SigningState(long Generation, DateTimeOffset? PreviousValidUntil, bool Stored = false, bool PreviousStored = false)
{
    /// <summary>A holder never rotated.</summary>
    public static SigningState First { get; } = new(0, null);
}

/// <summary>
/// Asks for a holder's signing secrets, decrypted in memory (in-process, <c>InvokeAsync&lt;SigningSecrets&gt;</c>).
/// Read-only: the secrets are derived from KeySafe's sealed signing root, the holder's id and its generation.
/// </summary>
/// <param name="HolderId">The holder (e.g. a webhook's id).</param>
/// <param name="State">Its signing state, as its own history says.</param>
public sealed record ResolveSigningSecrets(Guid HolderId, SigningState State);

/// <summary>The holder is gone: drop the signing secret stored for it before secrets were derived (outbox).</summary>
/// <param name="HolderId">The holder.</param>
public sealed record ForgetStoredSigningSecret(Guid HolderId);

/// <summary>A holder's signing secrets, in memory only. <see cref="ToString"/> never shows them.</summary>
/// <param name="HolderId">The holder (e.g. a webhook's id).</param>
/// <param name="Current">The secret that signs now (<c>whsec_...</c>).</param>
/// <param name="Previous">The previous secret, while it still signs.</param>
/// <param name="PreviousValidUntil">Until when the previous one signs.</param>
public sealed record SigningSecrets(Guid HolderId, string Current, string? Previous, DateTimeOffset? PreviousValidUntil)
{
    /// <summary>Never prints a secret.</summary>
    public override string ToString() => $"SigningSecrets {{ HolderId = {HolderId}, Current = ***, PreviousValidUntil = {PreviousValidUntil} }}";
}
