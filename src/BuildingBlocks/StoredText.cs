using System.Buffers;
using System.Text;

namespace Webhooks.BuildingBlocks;

/// <summary>
/// Text that can be stored and shown. PostgreSQL refuses the NUL character (<c>\u0000</c>) in text and jsonb, and
/// unpaired UTF-16 surrogates in jsonb: input a client sends is checked with <see cref="IsStorable"/> and refused with a
/// field error naming it. Untrusted text shown to people (a target's answer, an exception's message) is also cleaned of
/// other control characters with <see cref="Clean"/>, which garble what people read.
/// </summary>
public static class StoredText
{
    public const char Replacement = '\uFFFD';

    /// <summary>Why <see cref="IsStorable"/> refuses a value, for field errors.</summary>
    public const string NotStorable = "must not contain the NUL character (\\u0000) or unpaired surrogates";

    /// <summary>True when PostgreSQL can store the text: no NUL, no unpaired surrogate.</summary>
    public static bool IsStorable(string? text)
    {
        if (text is null)
        {
            return true;
        }

        var rest = text.AsSpan();
        int at;
        while ((at = rest.IndexOfAny(Unstorable)) >= 0)
        {
            var c = rest[at];
            if (!char.IsHighSurrogate(c) || at + 1 >= rest.Length || !char.IsLowSurrogate(rest[at + 1]))
            {
                return false;
            }

            rest = rest[(at + 2)..];
        }

        return true;
    }

    /// <summary>
    /// The text with NUL, the other C0 control characters (but tab, line feed and carriage return), DEL and unpaired
    /// surrogates replaced by U+FFFD: storable, and readable.
    /// </summary>
    public static string Clean(string text)
    {
        if (text.AsSpan().IndexOfAny(Suspects) < 0)
        {
            return text;
        }

        var cleaned = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cleaned.Append(c).Append(text[++i]);
            }
            else
            {
                cleaned.Append(IsRefusedControl(c) || char.IsSurrogate(c) ? Replacement : c);
            }
        }

        return cleaned.ToString();
    }

    /// <summary>
    /// The longest prefix of <paramref name="bytes"/> that does not end inside a UTF-8 sequence, decoded (invalid bytes
    /// become U+FFFD) and cleaned: an excerpt cut at a byte limit does not end in a broken character.
    /// </summary>
    public static string FromUtf8Prefix(ReadOnlySpan<byte> bytes)
    {
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
        var chars = new char[bytes.Length];
        decoder.Convert(bytes, chars, flush: false, out _, out var written, out _);
        return Clean(new string(chars, 0, written));
    }

    /// <summary>NUL and every surrogate (a surrogate is fine only in a pair): searched for vectorised.</summary>
    private static readonly SearchValues<char> Unstorable = SearchValues.Create(
        ['\0', .. Enumerable.Range(0xD800, 0x800).Select(i => (char)i)]);

    /// <summary>What <see cref="Clean"/> looks at: the refused controls and every surrogate.</summary>
    private static readonly SearchValues<char> Suspects = SearchValues.Create(
        [.. Enumerable.Range(0, 32).Select(i => (char)i).Where(c => c is not '\t' and not '\n' and not '\r'), '\u007F',
         .. Enumerable.Range(0xD800, 0x800).Select(i => (char)i)]);

    private static bool IsRefusedControl(char c) => (c < ' ' && c is not '\t' and not '\n' and not '\r') || c == '\u007F';
}

/// <summary>A string about to be stored that PostgreSQL would refuse: a bug, since the input should have been refused with a 400.</summary>
public sealed class UnstorableTextException(string message) : InvalidOperationException(message);

/// <summary>
/// The last line of defence in Marten's serializer: a string that PostgreSQL would refuse (see <see cref="StoredText"/>)
/// stops the write before any SQL is sent, instead of failing at the server, where a refused parameter can also leave
/// the pooled connection out of step (issue 11).
/// </summary>
public sealed class StorableStringConverter : System.Text.Json.Serialization.JsonConverter<string>
{
    public override string? Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        reader.GetString();

    public override void Write(System.Text.Json.Utf8JsonWriter writer, string value, System.Text.Json.JsonSerializerOptions options)
    {
        if (!StoredText.IsStorable(value))
        {
            throw new UnstorableTextException(
                $"A text about to be stored {StoredText.NotStorable}; the input that brought it should have been refused. Nothing was written.");
        }

        writer.WriteStringValue(value);
    }
}
