using System.Text.Json;

namespace Webhooks.BuildingBlocks;

/// <summary>Checks a JSON value that will be stored as it came (a record): every property name and string must be storable.</summary>
public static class StoredJson
{
    /// <summary>The path (under <paramref name="root"/>) of the first name or string PostgreSQL could not store, or null.</summary>
    public static string? FirstUnstorable(JsonElement element, string root)
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

                    if (FirstUnstorable(property.Value, path) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FirstUnstorable(item, $"{root}[{index++}]") is { } inner)
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
