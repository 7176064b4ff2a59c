namespace Webhooks.KeySafe.Contracts;

/// <summary>The kinds of credential KeySafe holds.</summary>
public static class KeyTypes
{
    /// <summary>HTTP Basic authentication: a username and a password (RFC 7617). The only type webhooks take.</summary>
    public const string HttpBasic = "httpBasic";

    /// <summary>Every type KeySafe accepts today.</summary>
    public static IReadOnlyList<string> All { get; } = [HttpBasic];
}

/// <summary>Body of <c>POST /keysafe/keys</c>.</summary>
/// <param name="Name">A name people recognise, unique among keys; at most 100 characters.</param>
/// <param name="Type">One of <see cref="KeyTypes.All"/>.</param>
/// <param name="Description">What the key is for.</param>
/// <param name="Username">The username (httpBasic). Shown in answers; not a secret.</param>
/// <param name="Password">The password (httpBasic). Write-only: no answer ever contains it.</param>
/// <param name="AllowedOrigins">The only origins (e.g. <c>https://crm.example.com</c>) the key may be sent to; none: any.</param>
public sealed record CreateKey(
    string? Name, string? Type, string? Description, string? Username, string? Password, IReadOnlyList<string>? AllowedOrigins = null)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"CreateKey {{ Name = {Name}, Type = {Type}, Username = {Username}, Password = *** }}";
}

/// <summary>Body of <c>PATCH /keysafe/keys/{id}</c>: the fields to change; absent fields stay as they are.</summary>
/// <param name="Name">A new name.</param>
/// <param name="Description">A new description; an empty string removes it.</param>
/// <param name="AllowedOrigins">The origins the key may be sent to from now on; an empty list allows any.</param>
public sealed record UpdateKey(string? Name, string? Description, IReadOnlyList<string>? AllowedOrigins = null);

/// <summary>Body of <c>PUT /keysafe/keys/{id}/secret</c>: the new credential, replacing the old one.</summary>
/// <param name="Username">The username (httpBasic).</param>
/// <param name="Password">The password (httpBasic). Write-only.</param>
public sealed record RotateKeySecret(string? Username, string? Password)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"RotateKeySecret {{ Username = {Username}, Password = *** }}";
}

/// <summary>A key as KeySafe shows it: never its secret.</summary>
/// <param name="Id">The key's id, which webhooks reference.</param>
/// <param name="Name">Its name.</param>
/// <param name="Type">One of <see cref="KeyTypes.All"/>.</param>
/// <param name="Description">What it is for.</param>
/// <param name="Username">The username (httpBasic).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="SecretRotatedAt">When its secret was last set.</param>
/// <param name="Version">The number of changes made to it so far.</param>
/// <param name="AllowedOrigins">The only origins the key may be sent to; empty: any.</param>
public sealed record KeyView(
    Guid Id,
    string Name,
    string Type,
    string? Description,
    string? Username,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset SecretRotatedAt,
    long Version,
    IReadOnlyList<string> AllowedOrigins);

/// <summary>One change in a key's history.</summary>
/// <param name="Version">The key's version after the change.</param>
/// <param name="EventType">What happened: <c>created</c>, <c>detailsChanged</c>, <c>secretRotated</c>, <c>deleted</c>.</param>
/// <param name="At">When.</param>
/// <param name="Actor">Who: the API key's configured name.</param>
/// <param name="Changed">The fields that changed (for a rotation: <c>secret</c>, and <c>username</c> when it changed).</param>
public sealed record KeyChange(long Version, string EventType, DateTimeOffset At, string Actor, IReadOnlyList<string> Changed);

/// <summary>Answer of <c>POST /keysafe/rewrap</c>.</summary>
/// <param name="ActiveMasterKey">The id of the master key every secret is now encrypted with.</param>
/// <param name="Rewrapped">Secrets re-encrypted by this call.</param>
/// <param name="AlreadyCurrent">Secrets that were already encrypted with the active master key.</param>
public sealed record RewrapResult(string ActiveMasterKey, int Rewrapped, int AlreadyCurrent);
