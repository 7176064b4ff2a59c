using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

/// <summary>
/// Issue 11, item 4: input that cannot be stored, or is no request at all, is a 4xx problem naming the field, never a
/// 500: a body of <c>null</c>, a NUL (or an unpaired surrogate) in any string, a cursor that is not one this API handed
/// out, and the empty GUID as a KeySafe key id.
/// </summary>
public sealed partial class when_input_cannot_be_stored(AppFixture fixture) : AppTest(fixture)
{
    private static readonly string Everyone = TestKeys.For([.. Roles.All]);

    [Fact]
    public async Task a_null_body_is_a_400_on_every_endpoint_that_takes_one()
    {
        var withBody = Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType is not null)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["POST"])
                .Select(m => (Method: m, Route: RouteParameter().Replace("/" + e.RoutePattern.RawText!.TrimStart('/'), Guid.NewGuid().ToString()))))
            .ToList();
        withBody.Count.ShouldBeGreaterThanOrEqualTo(8);

        foreach (var (method, route) in withBody)
        {
            var response = await Send(method, route, "null");
            response.Status.ShouldBe(HttpStatusCode.BadRequest, $"{method} {route}: {response.Body}");
            Errors(response.Body).ShouldContainKey("body");
        }
    }

    [Theory]
    [InlineData("POST", "/webhooks", """{"name":"n","description":"a\u0000b","application":"a","eventSource":"e","url":"https://x.example","payloadFormat":"json","postMode":"async"}""", "description")]
    [InlineData("POST", "/webhooks", """{"name":"n\u0000","application":"a","eventSource":"e","url":"https://x.example","payloadFormat":"json","postMode":"async"}""", "name")]
    [InlineData("POST", "/webhooks", """{"name":"n","application":"a","eventSource":"e","url":"https://x.example/\u0000","payloadFormat":"json","postMode":"async"}""", "url")]
    [InlineData("POST", "/webhooks", """{"name":"n","application":"a","eventSource":"e","url":"https://x.example","payloadFormat":"json","postMode":"async","triggerExpression":"h_name = 'a\u0000'"}""", "triggerExpression")]
    [InlineData("PUT", "/applications/crm/event-sources/s", """{"entity":"Contact","event":"update","description":"\ud800"}""", "description")]
    [InlineData("PUT", "/applications/crm/event-sources/s", """{"entity":"Contact","event":"update","sampleRecord":{"a":{"b\u0000":1}}}""", "sampleRecord.a.b\uFFFD")]
    [InlineData("POST", "/keysafe/keys", """{"name":"k\u0000","type":"httpBasic","username":"u","password":"p"}""", "name")]
    [InlineData("POST", "/keysafe/keys", """{"name":"k","type":"httpBasic","username":"u","password":"p\u0000"}""", "password")]
    [InlineData("POST", "/events", """{"application":"crm","eventSource":"s","actionBy":"a\u0000","record":{}}""", "actionBy")]
    [InlineData("POST", "/events", """{"application":"crm","eventSource":"s","callingSessionId":"\u0000","record":{}}""", "callingSessionId")]
    [InlineData("POST", "/events", """{"application":"crm","eventSource":"s","record":{"h_name":"x\u0000y"}}""", "record.h_name")]
    [InlineData("POST", "/events", """{"application":"crm","eventSource":"s","record":{"list":["ok","\udc00"]}}""", "record.list[1]")]
    [InlineData("POST", "/webhooks/n/recover", """{"since":"2026-01-01T00:00:00Z","extra":"\u0000"}""", "extra")]
    public async Task a_nul_or_an_unpaired_surrogate_in_a_body_is_a_400_naming_the_field(string method, string url, string body, string field)
    {
        var response = await Send(method, url, body);

        response.Status.ShouldBe(HttpStatusCode.BadRequest, response.Body);
        Errors(response.Body).ShouldContainKey(field, response.Body);
    }

    [Theory]
    [InlineData("POST", "/events", "null", "body")]
    [InlineData("POST", "/webhooks", "null", "body")]
    [InlineData("PUT", "/applications/crm/event-sources/s3", """{"entity":"Contact","event":"update","description":"\u0000"}""", "description")]
    public async Task a_body_without_a_content_type_is_checked_all_the_same(string method, string url, string body, string field)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Headers.Authorization = new("Bearer", Everyone);
        using var response = await Host.Server.CreateClient().SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, text);
        Errors(text).ShouldContainKey(field);
    }

    [Fact]
    public async Task only_the_bin_capture_route_is_left_unchecked()
    {
        var response = await Send("PUT", "/applications/crm/event-sources/capture", """{"entity":"Contact","event":"update","description":"\u0000"}""");

        response.Status.ShouldBe(HttpStatusCode.BadRequest, response.Body);
    }

    [Fact]
    public async Task control_characters_other_than_nul_are_stored_as_sent()
    {
        var response = await Send("PUT", "/applications/crm/event-sources/controls", "{\"entity\":\"Contact\",\"event\":\"update\",\"description\":\"form\\ffeed \u007f \\u001b\"}");

        response.Status.ShouldBe(HttpStatusCode.Created, response.Body);
        JsonDocument.Parse(response.Body).RootElement.GetProperty("description").GetString().ShouldBe("form\ffeed \u007f \u001b");
    }

    [Theory]
    [InlineData("/webhooks?application=%00", "application")]
    [InlineData("/webhooks?eventSource=a%00b", "eventSource")]
    [InlineData("/deliveries?webhook=%00", "webhook")]
    [InlineData("/applications/crm/event-sources?after=x&limit=5&q=%00", "q")]
    public async Task a_nul_in_a_query_value_is_a_400_naming_the_parameter(string url, string parameter)
    {
        var response = await Send("GET", url);

        response.Status.ShouldBe(HttpStatusCode.BadRequest, response.Body);
        Errors(response.Body).ShouldContainKey(parameter);
    }

    [Fact]
    public async Task a_nul_in_a_disable_reason_is_a_400()
    {
        var response = await Send("POST", "/webhooks/any/disable?reason=a%00b");

        response.Status.ShouldBe(HttpStatusCode.BadRequest, response.Body);
        Errors(response.Body).ShouldContainKey("reason");
    }

    [Theory]
    [InlineData("/webhooks?after=AA")]
    [InlineData("/applications?after=AA")]
    [InlineData("/applications/crm/event-sources?after=AA")]
    [InlineData("/keysafe/keys?after=AA")]
    [InlineData("/deliveries?after=AA")]
    [InlineData("/audit?after=AA")]
    [InlineData("/webhooks?after=%2F%2F%2F")]
    [InlineData("/applications?after=_w")]
    public async Task a_cursor_this_api_did_not_hand_out_is_a_400_naming_after(string url)
    {
        var response = await Send("GET", url);

        response.Status.ShouldBe(HttpStatusCode.BadRequest, response.Body);
        Errors(response.Body).ShouldContainKey("after");
    }

    [Theory]
    [InlineData("GET", "/keysafe/keys/00000000-0000-0000-0000-000000000000", null)]
    [InlineData("DELETE", "/keysafe/keys/00000000-0000-0000-0000-000000000000", null)]
    [InlineData("PATCH", "/keysafe/keys/00000000-0000-0000-0000-000000000000", """{"name":"x"}""")]
    [InlineData("PUT", "/keysafe/keys/00000000-0000-0000-0000-000000000000/secret", """{"username":"u","password":"p"}""")]
    [InlineData("GET", "/keysafe/keys/00000000-0000-0000-0000-000000000000/history", null)]
    public async Task the_empty_guid_as_a_key_id_is_a_404(string method, string url, string? body)
    {
        var response = await Send(method, url, body);

        response.Status.ShouldBe(HttpStatusCode.NotFound, response.Body);
    }

    private async Task<(HttpStatusCode Status, string Body)> Send(string method, string url, string? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        request.Headers.Authorization = new("Bearer", Everyone);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await Host.Server.CreateClient().SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Dictionary<string, JsonElement> Errors(string problem) =>
        JsonDocument.Parse(problem).RootElement.GetProperty("errors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
