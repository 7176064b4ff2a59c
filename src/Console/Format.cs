using System.Globalization;
using System.Text.Json;

namespace Webhooks.Console;

/// <summary>How the console writes times, numbers and JSON: UTC, invariant, readable.</summary>
public static class Format
{
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>Short, for tables: the time alone today, the date too otherwise (UTC).</summary>
    public static string Moment(DateTimeOffset time) =>
        time.UtcDateTime.ToString(time.UtcDateTime.Date == DateTime.UtcNow.Date ? "HH:mm:ss" : "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) => time is { } t ? Time(t) : "–";

    /// <summary>For <c>&lt;time datetime&gt;</c> and links: ISO 8601, UTC.</summary>
    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>For <c>&lt;input type=datetime-local&gt;</c> (minutes, UTC).</summary>
    public static string Local(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture) ?? "";

    /// <summary>A datetime-local value, read as UTC.</summary>
    public static DateTimeOffset? FromLocal(string? value) =>
        DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? new DateTimeOffset(t, TimeSpan.Zero)
            : null;

    public static string Percent(double? rate) => rate is { } r ? r.ToString("0.#%", CultureInfo.InvariantCulture) : "–";

    public static string Ms(double? ms) => ms is { } m ? $"{m.ToString("0.#", CultureInfo.InvariantCulture)} ms" : "–";

    public static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string PostMode(string mode) => mode switch
    {
        "async" => "Asynchronous",
        "sync" => "Synchronous",
        "syncCritical" => "Synchronous Critical",
        _ => mode,
    };

    /// <summary>A webhook's field as the form labels it (the seed's labels).</summary>
    public static string FieldLabel(string field) => field switch
    {
        "name" => "Name",
        "description" => "Description",
        "application" => "Application",
        "eventSource" => "Event Source",
        "enabled" => "Enabled",
        "keySafeKeyId" => "Authentication",
        "url" => "URL",
        "payloadFormat" => "Payload Format",
        "postMode" => "Post Mode",
        "triggerExpression" => "Trigger Expression",
        _ => field,
    };

    /// <summary>A webhook field's value as the form shows it: post modes and formats by their labels, keys by their names.</summary>
    public static string FieldValue(string field, string? value, IReadOnlyDictionary<Guid, string>? keyNames = null) => (field, value) switch
    {
        (_, null or "") => "none",
        ("postMode", { } mode) => PostMode(mode),
        ("payloadFormat", { } format) => PayloadFormat(format),
        ("enabled", { } enabled) => enabled.Equals("true", StringComparison.OrdinalIgnoreCase) ? "Yes" : "No",
        ("keySafeKeyId", { } id) when Guid.TryParse(id, out var key) => keyNames?.GetValueOrDefault(key) ?? $"key {id}",
        _ => value,
    };

    /// <summary>What happened to a webhook, in words.</summary>
    public static string WebhookEvent(string eventType) => eventType switch
    {
        "defined" => "Defined",
        "updated" => "Changed",
        "enabled" => "Enabled",
        "disabled" => "Disabled",
        "signingSecretRotated" => "Signing secret rotated",
        "deleted" => "Deleted",
        _ => Action(eventType),
    };

    public static string KeyType(string type) => type switch
    {
        "httpBasic" => "HTTP Basic",
        "bearer" => "Bearer token",
        "apiKeyHeader" => "API key header",
        "oauth2ClientCredentials" => "OAuth 2.0 client credentials",
        "mtls" => "TLS client certificate",
        _ => type,
    };

    /// <summary>What a key shows in a list beside its name: the username, header, client id or certificate subject.</summary>
    public static string? KeyShown(Webhooks.KeySafe.Contracts.KeyView key) =>
        key.Username ?? key.HeaderName ?? key.ClientId ?? key.Certificate?.Subject;

    /// <summary>A text area's lines (or comma-separated items), trimmed, blanks dropped: how origins are typed.</summary>
    public static IReadOnlyList<string> Lines(string? text) =>
        (text ?? "").Split(['\n', '\r', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>An audit action (<c>signingSecretRotated</c>) as words (<c>signing secret rotated</c>).</summary>
    public static string Action(string action) =>
        string.Concat(action.Select((c, i) => char.IsUpper(c) && i > 0 ? " " + char.ToLowerInvariant(c) : c.ToString()));

    public static string KeyChange(string eventType) => eventType switch
    {
        "created" => "Created",
        "detailsChanged" => "Details changed",
        "secretRotated" => "Secret rotated",
        "deleted" => "Deleted",
        _ => eventType,
    };

    public static string PayloadFormat(string format) => format.ToUpperInvariant();

    /// <summary>JSON indented; XML and anything else as it came.</summary>
    public static string Pretty(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return "";
        }

        var trimmed = body.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                return JsonSerializer.Serialize(document.RootElement, Indented);
            }
            catch (JsonException)
            {
                return body;
            }
        }

        if (trimmed.StartsWith('<'))
        {
            try
            {
                return System.Xml.Linq.XDocument.Parse(body).ToString();
            }
            catch (System.Xml.XmlException)
            {
                return body;
            }
        }

        return body;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
