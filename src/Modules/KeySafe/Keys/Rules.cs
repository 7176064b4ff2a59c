using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Webhooks.BuildingBlocks;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.KeySafe.Keys;

/// <summary>What a key's fields must be. Messages name fields, never echo a secret.</summary>
public static class KeyRules
{
    public const int MaxNameLength = 100;
    public const int MaxDescriptionLength = 2000;
    public const int MaxUsernameLength = 256;
    public const int MaxPasswordLength = 1024;

    public static void Name(FieldErrors errors, string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add("name", "The name is required.");
        }
        else if (name.Length > MaxNameLength)
        {
            errors.Add("name", $"The name must be at most {MaxNameLength} characters.");
        }
        else if (name.Any(char.IsControl))
        {
            errors.Add("name", "The name may not contain control characters.");
        }
    }

    public static void Description(FieldErrors errors, string? description) => errors.Check(
        description is null || description.Length <= MaxDescriptionLength,
        "description",
        $"The description must be at most {MaxDescriptionLength} characters.");

    public const int MaxSecretLength = 4096;
    public const int MaxUrlLength = 2048;
    public const int MaxClientIdLength = 256;
    public const int MaxScopeLength = 1000;
    public const int MaxCertificatePemLength = 32 * 1024;
    public const int MaxPrivateKeyPemLength = 16 * 1024;
    public const int MaxPkcs12Base64Length = 64 * 1024;

    /// <summary>Each type's credential fields, by their API names; a field of another type is refused, so a mistake is seen.</summary>
    private static readonly Dictionary<string, string[]> FieldsOf = new(StringComparer.Ordinal)
    {
        [KeyTypes.HttpBasic] = ["username", "password"],
        [KeyTypes.Bearer] = ["token"],
        [KeyTypes.ApiKeyHeader] = ["headerName", "value"],
        [KeyTypes.OAuth2ClientCredentials] = ["tokenUrl", "clientId", "clientSecret", "scope"],
        [KeyTypes.Mtls] = ["certificatePem", "privateKeyPem", "pkcs12Base64", "pkcs12Password"],
    };

    /// <summary>Whether <paramref name="field"/> (an API name) is a credential field of any type.</summary>
    public static bool IsCredentialField(string field) => FieldsOf.Values.Any(fields => fields.Contains(field, StringComparer.Ordinal));

    /// <summary>
    /// Checks the credential fields of a key of <paramref name="type"/> (creation or rotation), each problem a field
    /// error that never echoes a secret; and answers what is sealed and what is shown, when they are valid.
    /// </summary>
    public static (KeyMaterial Material, KeyFacts Facts)? Credential(FieldErrors errors, string? type, KeyMaterial fields, DateTimeOffset now)
    {
        if (type is null || !FieldsOf.TryGetValue(type, out var own))
        {
            return null;
        }

        var before = errors.Count;
        foreach (var (field, value) in Given(fields).Where(f => f.Value is not null && !own.Contains(f.Field)))
        {
            errors.Add(field, $"A {type} key has no field {field}; it takes {string.Join(", ", own)}.");
        }

        var result = type switch
        {
            KeyTypes.HttpBasic => HttpBasic(errors, fields.Username, fields.Password)
                ? (new KeyMaterial(Username: fields.Username, Password: fields.Password), KeyFacts.None) : default((KeyMaterial, KeyFacts)?),
            KeyTypes.Bearer => Secret(errors, "token", "A bearer token", fields.Token, tokenOnly: true)
                ? (new KeyMaterial(Token: fields.Token), KeyFacts.None) : null,
            KeyTypes.ApiKeyHeader => ApiKeyHeader(errors, fields),
            KeyTypes.OAuth2ClientCredentials => OAuth2(errors, fields),
            _ => Mtls(errors, fields, now),
        };
        return errors.Count == before ? result : null;
    }

    private static IEnumerable<(string Field, string? Value)> Given(KeyMaterial f) =>
    [
        ("username", f.Username), ("password", f.Password), ("token", f.Token), ("headerName", f.HeaderName), ("value", f.Value),
        ("tokenUrl", f.TokenUrl), ("clientId", f.ClientId), ("clientSecret", f.ClientSecret), ("scope", f.Scope),
        ("certificatePem", f.CertificatePem), ("privateKeyPem", f.PrivateKeyPem), ("pkcs12Base64", f.Pkcs12Base64),
        ("pkcs12Password", f.Pkcs12Password),
    ];

    /// <summary>RFC 7617: the user-id may not contain a colon; neither part may contain control characters.</summary>
    public static bool HttpBasic(FieldErrors errors, string? username, string? password)
    {
        var before = errors.Count;
        if (string.IsNullOrEmpty(username))
        {
            errors.Add("username", "The username is required for an httpBasic key.");
        }
        else if (username.Length > MaxUsernameLength || username.Contains(':', StringComparison.Ordinal) || username.Any(char.IsControl))
        {
            errors.Add("username", $"The username must be at most {MaxUsernameLength} characters, without ':' or control characters (RFC 7617).");
        }

        if (string.IsNullOrEmpty(password))
        {
            errors.Add("password", "The password is required for an httpBasic key.");
        }
        else if (password.Length > MaxPasswordLength || password.Any(char.IsControl))
        {
            errors.Add("password", $"The password must be at most {MaxPasswordLength} characters, without control characters.");
        }

        return errors.Count == before;
    }

    /// <summary>A secret sent in a header: printable ASCII; a token (<paramref name="tokenOnly"/>) without spaces either.</summary>
    private static bool Secret(FieldErrors errors, string field, string what, string? value, bool tokenOnly)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add(field, $"{what} is required.");
            return false;
        }

        if (value.Length > MaxSecretLength || OutboundHeaders.ValueProblem(value) is not null || (tokenOnly && value.Contains(' ', StringComparison.Ordinal)))
        {
            errors.Add(field, $"{what} must be at most {MaxSecretLength} printable ASCII characters{(tokenOnly ? ", without spaces" : "")}, as it is sent in a header.");
            return false;
        }

        return true;
    }

    private static (KeyMaterial, KeyFacts)? ApiKeyHeader(FieldErrors errors, KeyMaterial f)
    {
        var named = true;
        if (f.HeaderName is null)
        {
            errors.Add("headerName", "The header name is required for an apiKeyHeader key, e.g. X-Api-Key.");
            named = false;
        }
        else if (OutboundHeaders.NameProblem(f.HeaderName) is { } problem)
        {
            errors.Add("headerName", problem);
            named = false;
        }

        return Secret(errors, "value", "The API key's value", f.Value, tokenOnly: false) && named
            ? (new KeyMaterial(HeaderName: f.HeaderName, Value: f.Value), new KeyFacts(HeaderName: f.HeaderName))
            : null;
    }

    private static (KeyMaterial, KeyFacts)? OAuth2(FieldErrors errors, KeyMaterial f)
    {
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(f.TokenUrl))
        {
            errors.Add("tokenUrl", "The token endpoint is required, e.g. https://login.example.com/oauth2/token.");
        }
        else if (f.TokenUrl.Length > MaxUrlLength || !Uri.TryCreate(f.TokenUrl, UriKind.Absolute, out var url)
            || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp) || string.IsNullOrEmpty(url.Host)
            || url.UserInfo.Length > 0 || url.Fragment.Length > 0 || url.Query.Length > 0)
        {
            // No query either: the URL is shown (answers, history, errors), and a query is where a secret would hide.
            errors.Add("tokenUrl", $"The token endpoint must be an absolute http(s) URL of at most {MaxUrlLength} characters, without credentials, ?query or #fragment.");
        }

        if (string.IsNullOrEmpty(f.ClientId))
        {
            errors.Add("clientId", "The client id is required.");
        }
        else if (f.ClientId.Length > MaxClientIdLength || f.ClientId.Any(char.IsControl))
        {
            errors.Add("clientId", $"The client id must be at most {MaxClientIdLength} characters, without control characters.");
        }

        if (string.IsNullOrEmpty(f.ClientSecret))
        {
            errors.Add("clientSecret", "The client secret is required.");
        }
        else if (f.ClientSecret.Length > MaxSecretLength || f.ClientSecret.Any(char.IsControl))
        {
            errors.Add("clientSecret", $"The client secret must be at most {MaxSecretLength} characters, without control characters.");
        }

        if (f.Scope is not null && (f.Scope.Length > MaxScopeLength || OutboundHeaders.ValueProblem(f.Scope) is not null))
        {
            errors.Add("scope", $"The scope must be at most {MaxScopeLength} printable ASCII characters (scopes separated by spaces).");
        }

        var scope = string.IsNullOrWhiteSpace(f.Scope) ? null : f.Scope;
        return errors.Count == before
            ? (new KeyMaterial(TokenUrl: f.TokenUrl, ClientId: f.ClientId, ClientSecret: f.ClientSecret, Scope: scope),
                new KeyFacts(TokenUrl: f.TokenUrl, ClientId: f.ClientId, Scope: scope))
            : null;
    }

    private static (KeyMaterial, KeyFacts)? Mtls(FieldErrors errors, KeyMaterial f, DateTimeOffset now)
    {
        var pem = f.CertificatePem is not null || f.PrivateKeyPem is not null;
        var pkcs12 = f.Pkcs12Base64 is not null || f.Pkcs12Password is not null;
        if (pem == pkcs12)
        {
            errors.Add(pem ? "pkcs12Base64" : "certificatePem",
                "Give the client certificate either as PEM (certificatePem and privateKeyPem) or as PKCS#12 (pkcs12Base64 and pkcs12Password), " + (pem ? "not both." : "one of them."));
            return null;
        }

        if (pem && (f.CertificatePem is not { Length: > 0 and <= MaxCertificatePemLength } || f.PrivateKeyPem is not { Length: > 0 and <= MaxPrivateKeyPemLength }))
        {
            errors.Add(f.CertificatePem is { Length: > 0 and <= MaxCertificatePemLength } ? "privateKeyPem" : "certificatePem",
                $"Both the certificate (PEM, at most {MaxCertificatePemLength / 1024} KiB) and its private key (PEM, at most {MaxPrivateKeyPemLength / 1024} KiB) are required.");
            return null;
        }

        if (pkcs12 && f.Pkcs12Base64 is not { Length: > 0 and <= MaxPkcs12Base64Length })
        {
            errors.Add("pkcs12Base64", $"The PKCS#12 (base64, at most {MaxPkcs12Base64Length / 1024} KiB) is required.");
            return null;
        }

        var material = pem
            ? new KeyMaterial(CertificatePem: f.CertificatePem, PrivateKeyPem: f.PrivateKeyPem)
            : new KeyMaterial(Pkcs12Base64: f.Pkcs12Base64, Pkcs12Password: f.Pkcs12Password ?? "");
        X509Certificate2 certificate;
        try
        {
            certificate = ClientCertificates.Load(material);
        }
        catch (Exception refused) when (refused is CryptographicException or FormatException or ArgumentException)
        {
            // Crypto's own message may describe the input: a fixed one instead.
            errors.Add(pem ? "privateKeyPem" : "pkcs12Base64", pem
                ? "The certificate and private key do not load together: give the client certificate and its own private key, both PEM (the key PKCS#8, RSA or EC)."
                : "The PKCS#12 could not be opened: check that it is base64 of a PKCS#12 (.p12/.pfx) file and that the password is its password.");
            return null;
        }

        using (certificate)
        {
            if (!certificate.HasPrivateKey)
            {
                errors.Add(pem ? "privateKeyPem" : "pkcs12Base64", "The client certificate's private key is missing: a TLS client must hold it.");
                return null;
            }

            if (certificate.NotAfter.ToUniversalTime() <= now.UtcDateTime)
            {
                errors.Add(pem ? "certificatePem" : "pkcs12Base64",
                    $"The client certificate expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; targets would refuse it.");
                return null;
            }

            return (material, new KeyFacts(Certificate: ClientCertificates.Facts(certificate)));
        }
    }

    /// <summary>Origins (<c>https://crm.example.com</c>), at most <see cref="Origins.MaxPerKey"/>; answered normalised and without repeats.</summary>
    public static IReadOnlyList<string>? AllowedOrigins(FieldErrors errors, IReadOnlyList<string>? origins)
    {
        if (origins is null)
        {
            return null;
        }

        if (origins.Count > Origins.MaxPerKey)
        {
            errors.Add("allowedOrigins", $"A key may be bound to at most {Origins.MaxPerKey} origins.");
            return null;
        }

        var normalized = new List<string>();
        foreach (var origin in origins)
        {
            var (parsed, problem) = Origins.Parse(origin);
            if (problem is not null)
            {
                errors.Add("allowedOrigins", $"The origin {problem}.");
            }
            else if (!normalized.Contains(parsed!))
            {
                normalized.Add(parsed!);
            }
        }

        return normalized;
    }

    public static void Type(FieldErrors errors, string? type) => errors.Check(
        type is not null && KeyTypes.All.Contains(type, StringComparer.Ordinal),
        "type",
        $"The type must be one of: {string.Join(", ", KeyTypes.All)}.");
}
