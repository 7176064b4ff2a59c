namespace Webhooks.KeySafe.Contracts;

/// <summary>The kinds of credential KeySafe holds, and what each sends to a target.</summary>
public static class KeyTypes
{
    /// <summary>HTTP Basic authentication (RFC 7617): <c>username</c> and <c>password</c>. Hornbill's only type.</summary>
    public const string HttpBasic = "httpBasic";

    /// <summary>A bearer token (RFC 6750): <c>token</c>, sent as <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    public const string Bearer = "bearer";

    /// <summary>An API key in a header of the target's choosing: <c>headerName</c> (shown) and <c>value</c>.</summary>
    public const string ApiKeyHeader = "apiKeyHeader";

    /// <summary>
    /// OAuth 2.0 client credentials (RFC 6749 4.4): <c>tokenUrl</c>, <c>clientId</c>, <c>clientSecret</c>, <c>scope</c>; the
    /// access token is fetched, cached until shortly before it expires, fetched again once on a 401.
    /// </summary>
    public const string OAuth2ClientCredentials = "oauth2ClientCredentials";

    /// <summary>A TLS client certificate: <c>certificatePem</c> + <c>privateKeyPem</c>, or <c>pkcs12Base64</c> + <c>pkcs12Password</c>.</summary>
    public const string Mtls = "mtls";

    /// <summary>Every type KeySafe accepts.</summary>
    public static IReadOnlyList<string> All { get; } = [HttpBasic, Bearer, ApiKeyHeader, OAuth2ClientCredentials, Mtls];

    /// <summary>The types whose secret is one value a webhook's custom header may carry (a bearer token, an API key).</summary>
    public static IReadOnlyList<string> HeaderValues { get; } = [Bearer, ApiKeyHeader];

    /// <summary>The types that set the Authorization header themselves.</summary>
    public static IReadOnlyList<string> SettingAuthorization { get; } = [HttpBasic, Bearer, OAuth2ClientCredentials];
}

/// <summary>
/// Body of <c>POST /keysafe/keys</c>: the key's details and its type's credential fields (see <see cref="KeyTypes"/>);
/// another type's field is refused. The secret ones are write-only: no answer contains them.
/// </summary>
/// <param name="Name">A name people recognise, unique among keys; at most 100 characters.</param>
/// <param name="Type">One of <c>httpBasic</c>, <c>bearer</c>, <c>apiKeyHeader</c>, <c>oauth2ClientCredentials</c>, <c>mtls</c> (<see cref="KeyTypes"/>).</param>
/// <param name="Description">What the key is for.</param>
/// <param name="Username">httpBasic: the username. Shown in answers; not a secret.</param>
/// <param name="Password">httpBasic: the password. Write-only: no answer ever contains it.</param>
/// <param name="AllowedOrigins">The only origins (e.g. <c>https://crm.example.com</c>) the key may be sent to; none: any.</param>
/// <param name="Token">bearer: the token. Write-only.</param>
/// <param name="HeaderName">apiKeyHeader: the header to send it in, e.g. <c>X-Api-Key</c>.</param>
/// <param name="Value">apiKeyHeader: the header's value. Write-only.</param>
/// <param name="TokenUrl">oauth2ClientCredentials: the token endpoint, an absolute http(s) URL.</param>
/// <param name="ClientId">oauth2ClientCredentials: the client id.</param>
/// <param name="ClientSecret">oauth2ClientCredentials: the client secret. Write-only.</param>
/// <param name="Scope">oauth2ClientCredentials: the scope to ask for (space-separated), if any.</param>
/// <param name="CertificatePem">mtls: the client certificate, PEM.</param>
/// <param name="PrivateKeyPem">mtls: its private key, PEM (PKCS#8, RSA or EC). Write-only.</param>
/// <param name="Pkcs12Base64">mtls: or the certificate with its key as PKCS#12, base64. Write-only.</param>
/// <param name="Pkcs12Password">mtls: the PKCS#12's password. Write-only.</param>
public sealed record CreateKey(
    string? Name, string? Type, string? Description, string? Username, string? Password, IReadOnlyList<string>? AllowedOrigins = null,
    string? Token = null, string? HeaderName = null, string? Value = null, string? TokenUrl = null, string? ClientId = null,
    string? ClientSecret = null, string? Scope = null, string? CertificatePem = null, string? PrivateKeyPem = null,
    string? Pkcs12Base64 = null, string? Pkcs12Password = null)
{
    /// <summary>Never prints a secret.</summary>
    public override string ToString() => $"CreateKey {{ Name = {Name}, Type = {Type}, Username = {Username}, secrets = *** }}";
}

/// <summary>Body of <c>PATCH /keysafe/keys/{id}</c>: the fields to change; absent fields stay as they are.</summary>
/// <param name="Name">A new name.</param>
/// <param name="Description">A new description; an empty string removes it.</param>
/// <param name="AllowedOrigins">The origins the key may be sent to from now on; an empty list allows any.</param>
public sealed record UpdateKey(string? Name, string? Description, IReadOnlyList<string>? AllowedOrigins = null)
{
    /// <summary>
    /// Any other field sent (a credential's, such as <c>tokenUrl</c>): refused by name rather than ignored, since those
    /// change only with a rotation. Never set by the SDK.
    /// </summary>
    [System.Text.Json.Serialization.JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Others { get; init; }

    /// <summary>Never prints what else was sent (it may be a secret sent to the wrong place).</summary>
    public override string ToString() => $"UpdateKey {{ Name = {Name}, Description = {Description}, AllowedOrigins = {AllowedOrigins?.Count} }}";
}

/// <summary>
/// Body of <c>PUT /keysafe/keys/{id}/secret</c>: the key's whole new credential, in its type's fields (the type never
/// changes), replacing the old one.
/// </summary>
/// <param name="Username">httpBasic: the username.</param>
/// <param name="Password">httpBasic: the password. Write-only.</param>
/// <param name="Token">bearer: the token. Write-only.</param>
/// <param name="HeaderName">apiKeyHeader: the header's name.</param>
/// <param name="Value">apiKeyHeader: the header's value. Write-only.</param>
/// <param name="TokenUrl">oauth2ClientCredentials: the token endpoint.</param>
/// <param name="ClientId">oauth2ClientCredentials: the client id.</param>
/// <param name="ClientSecret">oauth2ClientCredentials: the client secret. Write-only.</param>
/// <param name="Scope">oauth2ClientCredentials: the scope, if any.</param>
/// <param name="CertificatePem">mtls: the client certificate, PEM.</param>
/// <param name="PrivateKeyPem">mtls: its private key, PEM. Write-only.</param>
/// <param name="Pkcs12Base64">mtls: or PKCS#12, base64. Write-only.</param>
/// <param name="Pkcs12Password">mtls: the PKCS#12's password. Write-only.</param>
public sealed record RotateKeySecret(
    string? Username, string? Password, string? Token = null, string? HeaderName = null, string? Value = null,
    string? TokenUrl = null, string? ClientId = null, string? ClientSecret = null, string? Scope = null,
    string? CertificatePem = null, string? PrivateKeyPem = null, string? Pkcs12Base64 = null, string? Pkcs12Password = null)
{
    /// <summary>Never prints a secret.</summary>
    public override string ToString() => $"RotateKeySecret {{ Username = {Username}, secrets = *** }}";
}

/// <summary>What can be shown of an mtls key's certificate (the public part; never its private key).</summary>
/// <param name="Subject">Its subject, e.g. <c>CN=webhooks.example.com</c>.</param>
/// <param name="Issuer">Its issuer.</param>
/// <param name="Thumbprint">SHA-256 of the certificate, hex.</param>
/// <param name="NotBefore">Valid from.</param>
/// <param name="NotAfter">Valid until: rotate the key before then.</param>
public sealed record CertificateFacts(string Subject, string Issuer, string Thumbprint, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

/// <summary>The non-secret fields of a key's credential, by type; the others are null.</summary>
/// <param name="HeaderName">apiKeyHeader: the header it is sent in.</param>
/// <param name="TokenUrl">oauth2ClientCredentials: the token endpoint.</param>
/// <param name="ClientId">oauth2ClientCredentials: the client id.</param>
/// <param name="Scope">oauth2ClientCredentials: the scope asked for.</param>
/// <param name="Certificate">mtls: the certificate.</param>
public sealed record KeyFacts(
    string? HeaderName = null, string? TokenUrl = null, string? ClientId = null, string? Scope = null, CertificateFacts? Certificate = null)
{
    /// <summary>None of them (an httpBasic key, whose username is shown on its own).</summary>
    public static KeyFacts None { get; } = new();

    /// <summary>The fields that differ from <paramref name="other"/>, by their API names.</summary>
    public IEnumerable<string> Differences(KeyFacts other) =>
        new (string Field, bool Differs)[]
        {
            ("headerName", HeaderName != other.HeaderName), ("tokenUrl", TokenUrl != other.TokenUrl), ("clientId", ClientId != other.ClientId),
            ("scope", Scope != other.Scope), ("certificate", Certificate?.Thumbprint != other.Certificate?.Thumbprint),
        }.Where(f => f.Differs).Select(f => f.Field);
}

/// <summary>A key as KeySafe shows it: never its secret.</summary>
/// <param name="Id">The key's id, which webhooks reference.</param>
/// <param name="Name">Its name.</param>
/// <param name="Type">One of <c>httpBasic</c>, <c>bearer</c>, <c>apiKeyHeader</c>, <c>oauth2ClientCredentials</c>, <c>mtls</c> (<see cref="KeyTypes"/>).</param>
/// <param name="Description">What it is for.</param>
/// <param name="Username">httpBasic: the username.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="SecretRotatedAt">When its secret was last set.</param>
/// <param name="Version">The number of changes made to it so far.</param>
/// <param name="AllowedOrigins">The only origins the key may be sent to; empty: any.</param>
/// <param name="HeaderName">apiKeyHeader: the header it is sent in.</param>
/// <param name="TokenUrl">oauth2ClientCredentials: the token endpoint.</param>
/// <param name="ClientId">oauth2ClientCredentials: the client id.</param>
/// <param name="Scope">oauth2ClientCredentials: the scope asked for.</param>
/// <param name="Certificate">mtls: the certificate's subject, issuer, thumbprint and validity.</param>
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
    IReadOnlyList<string> AllowedOrigins,
    string? HeaderName = null,
    string? TokenUrl = null,
    string? ClientId = null,
    string? Scope = null,
    CertificateFacts? Certificate = null);

/// <summary>One change in a key's history.</summary>
/// <param name="Version">The key's version after the change.</param>
/// <param name="EventType">What happened: <c>created</c>, <c>detailsChanged</c>, <c>secretRotated</c>, <c>deleted</c>.</param>
/// <param name="At">When.</param>
/// <param name="Actor">Who: the API key's configured name.</param>
/// <param name="Changed">The fields that changed (for a rotation: <c>secret</c>, and each shown field that changed with it,
/// e.g. <c>username</c>, <c>clientId</c>, <c>certificate</c>).</param>
public sealed record KeyChange(long Version, string EventType, DateTimeOffset At, string Actor, IReadOnlyList<string> Changed);

/// <summary>Answer of <c>POST /keysafe/rewrap</c>.</summary>
/// <param name="ActiveMasterKey">The id of the master key every secret is now encrypted with.</param>
/// <param name="Rewrapped">Secrets re-encrypted by this call.</param>
/// <param name="AlreadyCurrent">Secrets that were already encrypted with the active master key.</param>
public sealed record RewrapResult(string ActiveMasterKey, int Rewrapped, int AlreadyCurrent);
