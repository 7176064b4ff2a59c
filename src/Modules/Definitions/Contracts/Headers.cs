using System.Text.Json;
using System.Text.Json.Serialization;

namespace Webhooks.Definitions.Contracts;

/// <summary>
/// A custom header's value: text as it is (<c>"value"</c>), or the secret value of a KeySafe key
/// (<c>{"keySafeKeyId": "&lt;id&gt;"}</c>: a bearer key's token or an apiKeyHeader key's value), opened only when a call
/// is made, so it stays sealed everywhere else and is redacted in what is recorded of the call.
/// </summary>
/// <param name="Text">The literal value. Visible to admins and auditors, in the definition and its history: keep secrets in KeySafe.</param>
/// <param name="KeySafeKeyId">The KeySafe key whose secret is the value.</param>
[JsonConverter(typeof(HeaderValueConverter))]
public sealed record HeaderValue(string? Text = null, Guid? KeySafeKeyId = null)
{
    /// <summary>A literal value.</summary>
    public static implicit operator HeaderValue(string text) => new(text);

    /// <summary>The secret value of KeySafe key <paramref name="keyId"/>.</summary>
    public static HeaderValue FromKey(Guid keyId) => new(KeySafeKeyId: keyId);

    /// <summary>As the history shows it: the text, or the key reference.</summary>
    public override string ToString() => KeySafeKeyId is { } key ? $"{{keySafeKeyId: {key}}}" : Text ?? "";
}

/// <summary>A string, or an object with <c>keySafeKeyId</c> only; anything else is a clear JSON error (a 400).</summary>
public sealed class HeaderValueConverter : JsonConverter<HeaderValue>
{
    /// <inheritdoc/>
    public override HeaderValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new HeaderValue(reader.GetString());
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A header's value must be a string, or {\"keySafeKeyId\": \"<key id>\"}.");
        }

        Guid? keyId = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            reader.Read();
            if (!string.Equals(property, "keySafeKeyId", StringComparison.OrdinalIgnoreCase) || reader.TokenType != JsonTokenType.String
                || !Guid.TryParse(reader.GetString(), out var parsed))
            {
                throw new JsonException("A header's value must be a string, or {\"keySafeKeyId\": \"<key id>\"}.");
            }

            keyId = parsed;
        }

        return keyId is null
            ? throw new JsonException("A header's value must be a string, or {\"keySafeKeyId\": \"<key id>\"}.")
            : new HeaderValue(KeySafeKeyId: keyId);
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, HeaderValue value, JsonSerializerOptions options)
    {
        if (value.KeySafeKeyId is { } keyId)
        {
            writer.WriteStartObject();
            writer.WriteString("keySafeKeyId", keyId);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteStringValue(value.Text);
        }
    }
}
