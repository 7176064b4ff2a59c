namespace Webhooks.BuildingBlocks;

/// <summary>
/// The headers a person may add to the calls made to a target (a webhook's custom headers, an apiKeyHeader key's
/// header): a valid field name (RFC 9110 token) that the call does not set itself, and a value without control
/// characters. The one list of what is reserved, for KeySafe and Definitions alike.
/// </summary>
public static class OutboundHeaders
{
    public const int MaxNameLength = 100;
    public const int MaxValueLength = 4096;

    /// <summary>Set by every call (the Standard Webhooks headers are matched by their prefix), or hop-by-hop (RFC 9110 7.6.1).</summary>
    public static IReadOnlyList<string> Reserved { get; } =
    [
        "Content-Type", "Content-Length", "Content-Encoding", "Host", "User-Agent", "Connection", "Keep-Alive",
        "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Expect",
        // W3C Trace Context (issue 16): the attempt's own, when it is sent.
        "traceparent", "tracestate", "baggage",
    ];

    public const string ReservedPrefix = "webhook-";

    /// <summary>The content's own headers (<c>Content-*</c> and the few others .NET keeps with the content): set by the call.</summary>
    private static readonly string[] ContentHeaders = ["Expires", "Allow", "Last-Modified"];

    /// <summary>Headers whose value is a credential: never a literal in a definition, and redacted wherever recorded.</summary>
    public static bool Credential(string name) =>
        name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || name.Equals("Cookie", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why <paramref name="name"/> cannot be added to a call, or null when it can.</summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "A header name is required.";
        }

        if (name.Length > MaxNameLength || !name.All(IsTokenChar))
        {
            return $"'{Shown(name)}' is not a header name: at most {MaxNameLength} letters, digits and !#$%&'*+-.^_`|~ (RFC 9110).";
        }

        if (name.StartsWith(ReservedPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return $"'{name}' is reserved: the webhook-* headers carry the delivery's id, time and signature.";
        }

        if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) || ContentHeaders.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            return $"'{name}' is reserved: it describes the body, which the call sets itself.";
        }

        return Reserved.FirstOrDefault(r => r.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } reserved
            ? $"'{name}' is reserved: every call sets {reserved} itself (or it is a hop-by-hop header, which is never forwarded)."
            : null;
    }

    /// <summary>Why <paramref name="value"/> cannot be a header's value (printable ASCII, spaces inside), or null when it can. Never echoes it.</summary>
    public static string? ValueProblem(string? value) =>
        string.IsNullOrEmpty(value) ? "A header value is required."
        : value.Length > MaxValueLength ? $"A header value must be at most {MaxValueLength} characters."
        : !value.All(c => c is >= ' ' and <= '~') || value[0] == ' ' || value[^1] == ' '
            ? "A header value may hold printable ASCII characters only (no line breaks, no control characters, no leading or trailing spaces)."
        : null;

    private static bool IsTokenChar(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
        || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    private static string Shown(string name) => name.Length > 40 ? name[..40] + "..." : StoredText.Clean(name);
}
