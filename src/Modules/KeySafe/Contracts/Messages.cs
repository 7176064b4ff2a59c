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
public sealed record KeyDescription(Guid KeyId, bool Exists, string? Name, string? Type);

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
public sealed record HttpBasicCredential(Guid KeyId, bool Found, string? Username, string? Password)
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

/// <summary>Published (outbox) when a key was deleted: drop any cached credential of it.</summary>
/// <param name="KeyId">The key.</param>
public sealed record KeyRemoved(Guid KeyId);
