namespace Webhooks.Console;

/// <summary>Links with a query string: the filters a page keeps when it links to its next page.</summary>
public static class Links
{
    /// <summary><paramref name="path"/> with the given parameters, those without a value left out.</summary>
    public static string With(string path, params (string Key, string? Value)[] query)
    {
        var parts = query.Where(q => q.Value is not null).Select(q => $"{q.Key}={Uri.EscapeDataString(q.Value!)}").ToList();
        return parts.Count == 0 ? path : $"{path}?{string.Join("&", parts)}";
    }
}
