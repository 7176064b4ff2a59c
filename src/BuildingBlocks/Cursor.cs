using System.Buffers.Text;
using System.Text;

namespace Webhooks.BuildingBlocks;

/// <summary>Opaque paging cursors: the sort key of the last item, base64url-encoded so clients don't parse them.</summary>
public static class Cursor
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    public static string Encode(string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key));

    public static bool TryDecode(string? cursor, out string? key)
    {
        key = null;
        if (string.IsNullOrEmpty(cursor))
        {
            return true;
        }

        try
        {
            key = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
