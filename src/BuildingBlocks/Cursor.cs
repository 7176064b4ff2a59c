using System.Buffers.Text;
using System.Text;

namespace Webhooks.BuildingBlocks;

/// <summary>Opaque paging cursors: the sort key of the last item, base64url-encoded so clients don't parse them.</summary>
public static class Cursor
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

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
            // Strictly: a cursor this API handed out decodes to UTF-8 text PostgreSQL can take as a parameter; anything
            // else (say ?after=AA, a NUL) is refused here rather than sent to the database.
            key = Strict.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            return false;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        if (key.Length == 0 || !StoredText.IsStorable(key))
        {
            key = null;
            return false;
        }

        return true;
    }
}
