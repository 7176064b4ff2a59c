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
public sealed record KeyDescription(Guid KeyId, bool Exists, string? Name, string? Type, IReadOnlyList<string>? AllowedOrigins = null);

/// <summary>
/// Asks KeySafe for the username and password of an httpBasic key, decrypted in memory only
/// (in-process, <c>InvokeAsync&lt;HttpBasicCredential&gt;</c>). Never send this over a durable or external transport.
/// </summary>
/// <param name="KeyId">The key's id.</param>
public sealed record ResolveHttpBasicCredential(Guid KeyId);

/// <summary>A decrypted credential. Its <see cref="ToString"/> never shows the password.</summary>
/// <param name="KeyId">The key it came from.</param>
/// <param name="Found">False when there is no live httpBasic key with that id.</param>
/// <param name="Username">The username.</param>
/// <param name="Password">The password, in memory only: never log, store or return it.</param>
/// <param name="AllowedOrigins">The only origins it may be sent to; empty or null: any.</param>
public sealed record HttpBasicCredential(Guid KeyId, bool Found, string? Username, string? Password, IReadOnlyList<string>? AllowedOrigins = null)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"HttpBasicCredential {{ KeyId = {KeyId}, Found = {Found}, Username = {Username}, Password = *** }}";
}

/// <summary>
/// Reserves a key for a webhook before the webhook is saved (in-process, <c>InvokeAsync&lt;KeyReservation&gt;</c>),
/// so that a key cannot be deleted between the webhook's check of the key and the webhook's save.
/// </summary>
/// <param name="KeyId">The key the webhook will use.</param>
/// <param name="WebhookId">The webhook's id.</param>
/// <param name="WebhookName">The webhook's name, shown when the key's deletion is refused.</param>
public sealed record ReserveKey(Guid KeyId, Guid WebhookId, string WebhookName);

/// <summary>The answer to <see cref="ReserveKey"/>.</summary>
/// <param name="Reserved">True when the key exists and is now reserved for the webhook.</param>
/// <param name="Problem">Why not, when it is not (no such key, or a type webhooks cannot use).</param>
public sealed record KeyReservation(bool Reserved, string? Problem);

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
/// Creates a webhook's signing secret if it has none (in-process, <c>InvokeAsync</c>); idempotent. Definitions sends it
/// when a webhook is defined; the secret lives sealed in KeySafe, never in Definitions' events.
/// </summary>
/// <param name="WebhookId">The webhook.</param>
public sealed record IssueSigningSecret(Guid WebhookId);

/// <summary>Replaces a webhook's signing secret; the old one keeps signing for <paramref name="GracePeriod"/>.</summary>
/// <param name="WebhookId">The webhook.</param>
/// <param name="GracePeriod">How long the previous secret stays valid beside the new one.</param>
public sealed record RotateSigningSecret(Guid WebhookId, TimeSpan GracePeriod);

/// <summary>Asks for a webhook's signing secrets, decrypted in memory (in-process, <c>InvokeAsync&lt;SigningSecrets&gt;</c>).</summary>
/// <param name="WebhookId">The webhook.</param>
public sealed record ResolveSigningSecrets(Guid WebhookId);

/// <summary>A webhook's signing secrets, in memory only. <see cref="ToString"/> never shows them.</summary>
/// <param name="WebhookId">The webhook.</param>
/// <param name="Current">The secret that signs now (<c>whsec_...</c>).</param>
/// <param name="Previous">The previous secret, while it still signs.</param>
/// <param name="PreviousValidUntil">Until when the previous one signs.</param>
public sealed record SigningSecrets(Guid WebhookId, string Current, string? Previous, DateTimeOffset? PreviousValidUntil)
{
    /// <summary>Never prints a secret.</summary>
    public override string ToString() => $"SigningSecrets {{ WebhookId = {WebhookId}, Current = ***, PreviousValidUntil = {PreviousValidUntil} }}";
}
