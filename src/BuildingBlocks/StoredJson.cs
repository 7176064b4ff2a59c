using System.Text.Json;

namespace Webhooks.BuildingBlocks;

/// <summary>Checks a JSON value that will be stored as it came (a record): every property name and string must be storable.</summary>
public static class StoredJson
{
    /// <summary>The path (under <paramref name="root"/>) of the first name or string PostgreSQL could not store, or null.</summary>
    /// <remarks>
    /// JSON can carry such characters only as escapes: a value without one is passed after a vectorised search of its
    /// raw text (<see cref="MayHoldUnstorable"/>), and only one with escapes is walked.
    /// </remarks>
    public static string? FirstUnstorable(JsonElement element, string root) =>
        MayHoldUnstorable(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element)) ? Walk(element, root) : null;

    /// <summary>
    /// Whether JSON text holds an escape that could decode to something PostgreSQL cannot store: <c>\u0000</c>, or a
    /// surrogate (<c>\uD800</c> to <c>\uDFFF</c>, also in pairs). Other escapes (<c>\u00e9</c>, <c>\u002B</c>, which
    /// common encoders write for accents and '+') are passed at the cost of a search.
    /// </summary>
    public static bool MayHoldUnstorable(ReadOnlySpan<byte> json)
    {
        int at;
        while ((at = json.IndexOf("\\u"u8)) >= 0)
        {
            var escape = json[(at + 2)..];
            if (escape.Length >= 4 && (escape[..4].SequenceEqual("0000"u8)
                || ((escape[0] is (byte)'d' or (byte)'D') && escape[1] is >= (byte)'8' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F')))
            {
                return true;
            }

            json = json[(at + 2)..];
        }

        return false;
    }

    private static string? Walk(JsonElement element, string root)
    {
        var path = new List<string> { root };
        return Unstorable(element, path) ? string.Concat(path) : null;
    }

    /// <summary>True when a name or string under <paramref name="element"/> cannot be stored; <paramref name="path"/> then leads to it.</summary>
    private static bool Unstorable(JsonElement element, List<string> path)
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
                        path.Add(".?"); // an escaped unpaired surrogate in the name
                        return true;
                    }

                    path.Add("." + StoredText.Clean(name));
                    if (!StoredText.IsStorable(name) || Unstorable(property.Value, path))
                    {
                        return true;
                    }

                    path.RemoveAt(path.Count - 1);
                }

                return false;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    path.Add($"[{index++}]");
                    if (Unstorable(item, path))
                    {
                        return true;
                    }

                    path.RemoveAt(path.Count - 1);
                }

                return false;
            case JsonValueKind.String:
                try
                {
                    return !StoredText.IsStorable(element.GetString());
                }
                catch (InvalidOperationException)
                {
                    return true; // an escaped unpaired surrogate
                }

            default:
                return false;
        }
    }
}
