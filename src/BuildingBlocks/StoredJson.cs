using System.Text.Json;

namespace Webhooks.BuildingBlocks;

/// <summary>Checks a JSON value that will be stored as it came (a record): every property name and string must be storable.</summary>
public static class StoredJson
{
    /// <summary>The path (under <paramref name="root"/>) of the first name or string PostgreSQL could not store, or null.</summary>
    /// <remarks>
    /// JSON can carry such characters only as <c>\u</c> escapes: a value without one is passed after one vectorised
    /// search of its raw text, and only one with escapes is walked.
    /// </remarks>
    public static string? FirstUnstorable(JsonElement element, string root) =>
        System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element).IndexOf("\\u"u8) < 0 ? null : Walk(element, root);

    private static string? Walk(JsonElement element, string root)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return $"{root}.?"; // an escaped unpaired surrogate in the name
                    }

                    var path = $"{root}.{StoredText.Clean(name)}";
                    if (!StoredText.IsStorable(name))
                    {
                        return path;
                    }

                    if (Walk(property.Value, path) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Walk(item, $"{root}[{index++}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.String:
                try
                {
                    return StoredText.IsStorable(element.GetString()) ? null : root;
                }
                catch (InvalidOperationException)
                {
                    return root; // an escaped unpaired surrogate
                }

            default:
                return null;
        }
    }
}
