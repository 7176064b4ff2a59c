namespace Webhooks.BuildingBlocks;

/// <summary>Web origins (RFC 6454) as KeySafe binds keys to them: <c>scheme://host[:port]</c>, lower case, default port left out.</summary>
public static class Origins
{
    public const int MaxPerKey = 20;

    /// <summary>The origin of an absolute http(s) URL.</summary>
    public static string Of(Uri url) => url.IsDefaultPort
        ? $"{url.Scheme}://{url.IdnHost}".ToLowerInvariant()
        : $"{url.Scheme}://{url.IdnHost}:{url.Port}".ToLowerInvariant();

    /// <summary>The origin <paramref name="text"/> names, or why it names none (it must be an origin only: no path, query or credentials).</summary>
    public static (string? Origin, string? Problem) Parse(string? text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(url.Host))
        {
            return (null, $"'{text}' is not an http or https origin such as https://crm.example.com");
        }

        if (url.UserInfo.Length > 0 || url.AbsolutePath != "/" || url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            return (null, $"'{text}' must be an origin only (scheme, host and port), such as {Of(url)}");
        }

        return (Of(url), null);
    }

    /// <summary>Whether a key bound to <paramref name="allowed"/> (none: any) may be sent to <paramref name="url"/>.</summary>
    public static bool Allow(IReadOnlyCollection<string>? allowed, Uri url) =>
        allowed is not { Count: > 0 } || allowed.Contains(Of(url), StringComparer.Ordinal);
}
