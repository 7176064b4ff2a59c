using System.Text;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Webhooks.Dispatch.Rendering;
using Webhooks.Dispatch.Routing;

namespace Webhooks.Tests.Dispatch;

public sealed class PayloadTests
{
    private static readonly DateTimeOffset Time = new(2015, 11, 16, 14, 50, 47, TimeSpan.Zero);

    private static EntityEvent Event(string recordJson, string? table = null) => new(
        new SourceInfo("app", "contact-update", "Contact", table, "update"), Time, "admin", "System Administrator",
        "U2015111600017554", JsonDocument.Parse(recordJson).RootElement);

    [Fact]
    public void json_is_hornbills_sample_shape_field_by_field()
    {
        var json = Encoding.UTF8.GetString(Payload.Json(Event("""{"h_pk_id":"103","h_jobtitle":"test","h_datelastmodified":"2015-11-16T14:50:47"}""")));

        json.ShouldBe("""
            {"onEntityEvent":{"eventSource":"urn:webhook:entity:Contact:update","callingSessionId":"U2015111600017554","eventTime":"2015-11-16 14:50:47Z","actionBy":"admin","actionByName":"System Administrator","entity":"Contact","record":{"h_pk_id":"103","h_jobtitle":"test","h_datelastmodified":"2015-11-16T14:50:47"}}}
            """);
    }

    [Fact]
    public void the_table_names_the_urn_and_travels_when_the_event_source_names_one()
    {
        var payload = JsonDocument.Parse(Payload.Json(Event("{}", table: "h_sys_contacts"))).RootElement.GetProperty("onEntityEvent");

        payload.GetProperty("eventSource").GetString().ShouldBe("urn:webhook:entity:h_sys_contacts:update");
        payload.GetProperty("table").GetString().ShouldBe("h_sys_contacts");
        payload.GetProperty("entity").GetString().ShouldBe("Contact");
    }

    [Fact]
    public void json_keeps_the_record_as_sent_numbers_nesting_and_unicode_included()
    {
        const string record = """{"n":1.50,"big":12345678901234567890,"s":"é \"q\" <&> \u0001","o":{"a":[1,null,true]}}""";
        var payload = JsonDocument.Parse(Payload.Json(Event(record))).RootElement.GetProperty("onEntityEvent").GetProperty("record");

        payload.GetProperty("n").GetRawText().ShouldBe("1.50");
        payload.GetProperty("big").GetRawText().ShouldBe("12345678901234567890");
        payload.GetProperty("s").GetString().ShouldBe("é \"q\" <&> \u0001");
        payload.GetProperty("o").GetProperty("a").GetArrayLength().ShouldBe(3);
    }

    [Fact]
    public void xml_carries_the_same_tree_and_parses_with_a_standard_parser()
    {
        var xml = XDocument.Parse(Encoding.UTF8.GetString(Payload.Xml(Event("""{"h_pk_id":"103","h_jobtitle":"test"}"""))));
        var root = xml.Root!;

        root.Name.LocalName.ShouldBe("onEntityEvent");
        root.Elements().Select(e => e.Name.LocalName).ShouldBe(
            ["eventSource", "callingSessionId", "eventTime", "actionBy", "actionByName", "entity", "record"]);
        root.Element("eventTime")!.Value.ShouldBe("2015-11-16 14:50:47Z");
        root.Element("record")!.Element("h_pk_id")!.Value.ShouldBe("103");
        xml.Declaration!.Encoding.ShouldBe("utf-8");
    }

    [Fact]
    public void xml_is_well_formed_for_any_name_and_value_and_round_trips_them()
    {
        var record = new Dictionary<string, object?>
        {
            ["lt"] = "a < b",
            ["amp"] = "Tom & Jerry",
            ["quotes"] = "\"double\" and 'single'",
            ["unicode"] = "Zoë ☃ 日本 😀",
            ["1starts-with-digit"] = "x",
            ["has space"] = "y",
            ["colon:name"] = "z",
            ["xmlReserved"] = "w",
            [""] = "empty name",
            ["nested"] = new Dictionary<string, object?> { ["inner"] = new Dictionary<string, object?> { ["deep"] = "value" } },
            ["list"] = new object?[] { 1, "two", null, new Dictionary<string, object?> { ["k"] = "v" } },
            ["nothing"] = null,
            ["number"] = 42.5,
            ["flag"] = false,
        };
        var bytes = Payload.Xml(Event(JsonSerializer.Serialize(record)));

        var document = XDocument.Parse(Encoding.UTF8.GetString(bytes));
        var xsi = XNamespace.Get("http://www.w3.org/2001/XMLSchema-instance");
        var fields = document.Root!.Element("record")!;
        string Value(string name) => fields.Element(XmlConvert.EncodeLocalName(name))!.Value;

        Value("lt").ShouldBe("a < b");
        Value("amp").ShouldBe("Tom & Jerry");
        Value("quotes").ShouldBe("\"double\" and 'single'");
        Value("unicode").ShouldBe("Zoë ☃ 日本 😀");
        XmlConvert.DecodeName(fields.Elements().First(e => e.Name.LocalName.StartsWith("_x0031_", StringComparison.Ordinal)).Name.LocalName).ShouldBe("1starts-with-digit");
        Value("has space").ShouldBe("y");
        Value("colon:name").ShouldBe("z");
        fields.Element("_")!.Value.ShouldBe("empty name");
        fields.Element("nested")!.Element("inner")!.Element("deep")!.Value.ShouldBe("value");
        var items = fields.Element("list")!.Elements("item").ToList();
        items.Count.ShouldBe(4);
        items[0].Value.ShouldBe("1");
        items[1].Value.ShouldBe("two");
        items[2].Attribute(xsi + "nil")!.Value.ShouldBe("true");
        items[3].Element("k")!.Value.ShouldBe("v");
        fields.Element("nothing")!.Attribute(xsi + "nil")!.Value.ShouldBe("true");
        Value("number").ShouldBe("42.5");
        Value("flag").ShouldBe("false");
    }

    [Fact]
    public void characters_xml_cannot_carry_become_replacement_characters_and_the_document_stays_well_formed()
    {
        var bytes = Payload.Xml(Event(JsonSerializer.Serialize(new { control = "bell\u0007tab\tnul\u0000end", lone = "x\uD800y" })));

        var fields = XDocument.Parse(Encoding.UTF8.GetString(bytes)).Root!.Element("record")!;
        fields.Element("control")!.Value.ShouldBe("bell\uFFFDtab\tnul\uFFFDend");
        fields.Element("lone")!.Value.ShouldBe("x\uFFFDy");
    }

    [Fact]
    public void missing_metadata_is_null_in_json_and_nil_in_xml()
    {
        var e = Event("{}") with { ActionBy = null, CallingSessionId = null };

        var json = JsonDocument.Parse(Payload.Json(e)).RootElement.GetProperty("onEntityEvent");
        json.GetProperty("actionBy").ValueKind.ShouldBe(JsonValueKind.Null);
        var xml = XDocument.Parse(Encoding.UTF8.GetString(Payload.Xml(e))).Root!;
        xml.Element("actionBy")!.Attribute(XNamespace.Get("http://www.w3.org/2001/XMLSchema-instance") + "nil")!.Value.ShouldBe("true");
    }
}
