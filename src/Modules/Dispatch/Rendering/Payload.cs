using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;
using Webhooks.Dispatch.Routing;

namespace Webhooks.Dispatch.Rendering;

/// <summary>The event as targets receive it: Hornbill's <c>onEntityEvent</c> object.</summary>
public sealed record EntityEvent(
    SourceInfo Source, DateTimeOffset EventTime, string? ActionBy, string? ActionByName, string? CallingSessionId, JsonElement Record);

/// <summary>
/// Renders <c>{"onEntityEvent": {...}}</c> or <c>&lt;onEntityEvent&gt;...&lt;/onEntityEvent&gt;</c> exactly as Hornbill's
/// receivers read them (HORNBILL.md, Payload), as UTF-8 bytes.
/// </summary>
public static class Payload
{
    public const string JsonContentType = "application/json; charset=utf-8";
    public const string XmlContentType = "application/xml; charset=utf-8";
    private const string XsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";

    /// <summary>The body in the webhook's payload format.</summary>
    public static byte[] For(string payloadFormat, EntityEvent e) =>
        payloadFormat == Definitions.Contracts.PayloadFormats.Xml ? Xml(e) : Json(e);

    public static string ContentTypeFor(string payloadFormat) =>
        payloadFormat == Definitions.Contracts.PayloadFormats.Xml ? XmlContentType : JsonContentType;

    public static string EventTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static byte[] Json(EntityEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("onEntityEvent");
            writer.WriteString("eventSource", e.Source.Urn);
            writer.WriteString("callingSessionId", e.CallingSessionId);
            writer.WriteString("eventTime", EventTime(e.EventTime));
            writer.WriteString("actionBy", e.ActionBy);
            writer.WriteString("actionByName", e.ActionByName);
            writer.WriteString("entity", e.Source.Entity);
            if (e.Source.Table is not null)
            {
                writer.WriteString("table", e.Source.Table);
            }

            writer.WritePropertyName("record");
            e.Record.WriteTo(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Well-formed for any field name and value: names that are not XML names are encoded
    /// (<see cref="XmlConvert.EncodeLocalName"/>), values escaped, nested objects become elements, arrays repeat an
    /// <c>item</c> element, null is an empty element with <c>xsi:nil="true"</c>. Characters XML 1.0 cannot carry at all
    /// (most control characters) become U+FFFD.
    /// </summary>
    public static byte[] Xml(EntityEvent e)
    {
        using var stream = new MemoryStream(1024);
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false), CheckCharacters = true }))
        {
            writer.WriteStartDocument();
            writer.WriteStartElement("onEntityEvent");
            writer.WriteAttributeString("xmlns", "xsi", null, XsiNamespace);
            Text(writer, "eventSource", e.Source.Urn);
            Text(writer, "callingSessionId", e.CallingSessionId);
            Text(writer, "eventTime", EventTime(e.EventTime));
            Text(writer, "actionBy", e.ActionBy);
            Text(writer, "actionByName", e.ActionByName);
            Text(writer, "entity", e.Source.Entity);
            if (e.Source.Table is not null)
            {
                Text(writer, "table", e.Source.Table);
            }

            Element(writer, "record", e.Record);
            writer.WriteEndElement();
            writer.WriteEndDocument();
        }

        return stream.ToArray();
    }

    private static void Text(XmlWriter writer, string name, string? value)
    {
        writer.WriteStartElement(name);
        if (value is null)
        {
            writer.WriteAttributeString("nil", XsiNamespace, "true");
        }
        else
        {
            writer.WriteString(Clean(value));
        }

        writer.WriteEndElement();
    }

    private static void Element(XmlWriter writer, string name, JsonElement value)
    {
        writer.WriteStartElement(XmlConvert.EncodeLocalName(name));
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    Element(writer, property.Name.Length == 0 ? "_" : property.Name, property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    Element(writer, "item", item);
                }

                break;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                writer.WriteAttributeString("nil", XsiNamespace, "true");
                break;
            case JsonValueKind.String:
                writer.WriteString(Clean(value.GetString()!));
                break;
            default:
                // Numbers keep their JSON text; true and false are XML Schema booleans already.
                writer.WriteString(value.GetRawText());
                break;
        }

        writer.WriteEndElement();
    }

    private static string Clean(string value)
    {
        var firstInvalid = -1;
        for (var i = 0; i < value.Length; i++)
        {
            if (!IsXmlChar(value, i))
            {
                firstInvalid = i;
                break;
            }
        }

        if (firstInvalid < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        builder.Append(value, 0, firstInvalid);
        for (var i = firstInvalid; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                builder.Append(value[i]).Append(value[i + 1]);
                i++;
            }
            else
            {
                builder.Append(IsXmlChar(value, i) ? value[i] : '\uFFFD');
            }
        }

        return builder.ToString();
    }

    private static bool IsXmlChar(string value, int i)
    {
        var c = value[i];
        if (char.IsSurrogate(c))
        {
            return char.IsHighSurrogate(c) ? i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]) : i > 0 && char.IsHighSurrogate(value[i - 1]);
        }

        return XmlConvert.IsXmlChar(c);
    }
}
