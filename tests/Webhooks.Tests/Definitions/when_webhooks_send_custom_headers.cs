using System.Net;
using Refit;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Definitions;

/// <summary>
/// Issue 15: a webhook's custom headers, literal or sealed in KeySafe, reach the target; the reserved ones are refused
/// with a clear message; a header's key is held like the webhook's own key.
/// </summary>
public sealed class when_webhooks_send_custom_headers(AppFixture fixture) : ReceiverTest(fixture)
{
    private async Task<WebhookDefinition> Define(string name, Dictionary<string, HeaderValue> headers, Guid? keyId = null)
    {
        WebhookDefinition webhook = null!;
        await Host.ExecuteAndWaitAsync(async () => webhook = await Fixture.Client(TestKeys.Admin).DefineWebhook(
            DefinitionsSetup.Webhook(name) with { Url = Receiver.Url.ToString(), KeySafeKeyId = keyId, Headers = headers }));
        return webhook;
    }

    [Fact]
    public async Task literal_and_keysafe_values_reach_the_target_and_only_the_sealed_one_is_redacted()
    {
        var tenantKey = await Fixture.Client(TestKeys.KeySafe).CreateKey(
            new CreateKey("tenant secret", KeyTypes.ApiKeyHeader, null, null, null, HeaderName: "X-Ignored", Value: "sealed-3e9f"));
        var basic = await Fixture.CreatedKey();
        var webhook = await Define("with-headers", new() { ["X-Tenant"] = "acme", ["X-Tenant-Secret"] = HeaderValue.FromKey(tenantKey.Id) }, basic.Id);
        webhook.Headers!["X-Tenant"].ShouldBe(new HeaderValue("acme"));
        webhook.Headers["X-Tenant-Secret"].ShouldBe(HeaderValue.FromKey(tenantKey.Id));

        var answer = await Host.Publish(HttpStatusCode.Accepted);
        var received = (await Receiver.WaitFor(1)).Single();

        received.Header("X-Tenant").ShouldBe("acme");
        received.Header("X-Tenant-Secret").ShouldBe("sealed-3e9f");
        received.Header("X-Ignored").ShouldBeNull("a header's key gives its value only");
        received.Header("Authorization").ShouldStartWith("Basic ");
        var delivery = await Poll.Until(
            () => Fixture.Client(TestKeys.Auditor).GetDelivery(answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid()),
            d => d.Status == DeliveryStatuses.Succeeded);
        delivery.Attempts.Single().RequestHeaders["X-Tenant"].ShouldBe("acme");
        delivery.Attempts.Single().RequestHeaders["X-Tenant-Secret"].ShouldBe("[redacted]");

        var history = await Fixture.Client(TestKeys.Auditor).GetWebhookHistory("with-headers");
        history.Items.Single().Changes.ShouldContain(new FieldChange("headers", null, $"X-Tenant: acme, X-Tenant-Secret: {{keySafeKeyId: {tenantKey.Id}}}"));
    }

    [Fact]
    public async Task a_headers_key_is_held_until_the_header_goes()
    {
        var key = await Fixture.Client(TestKeys.KeySafe).CreateKey(new CreateKey("held", KeyTypes.Bearer, null, null, null, Token: "t"));
        await Define("holder", new() { ["X-Token"] = HeaderValue.FromKey(key.Id) });

        var refused = await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id));
        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        refused.Content!.ShouldContain("holder");

        await Host.ExecuteAndWaitAsync(() => Fixture.Client(TestKeys.Admin).UpdateWebhook(
            "holder", DefinitionsSetup.Webhook("holder") with { Url = Receiver.Url.ToString(), Headers = new Dictionary<string, HeaderValue> { ["X-Other"] = "x" } }));
        var history = await Fixture.Client(TestKeys.Auditor).GetWebhookHistory("holder");
        history.Items[^1].Changes.ShouldBe([new FieldChange("headers", $"X-Token: {{keySafeKeyId: {key.Id}}}", "X-Other: x")]);
        await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id);
    }

    public static TheoryData<string, string> BadHeaders => new()
    {
        { """{"webhook-id": "x"}""", "'webhook-id' is reserved: the webhook-* headers carry the delivery's id, time and signature." },
        { """{"Content-Type": "text/plain"}""", "'Content-Type' is reserved" },
        { """{"Host": "internal.example"}""", "'Host' is reserved" },
        { """{"Connection": "close"}""", "hop-by-hop" },
        { """{"Transfer-Encoding": "chunked"}""", "'Transfer-Encoding' is reserved" },
        { """{"Content-Language": "en"}""", "'Content-Language' is reserved: it describes the body" },
        { """{"Last-Modified": "yesterday"}""", "'Last-Modified' is reserved: it describes the body" },
        { """{"Authorization": "Token abc"}""", "Authorization carries a credential: its value may not be written in the definition" },
        { """{"cookie": "session=abc"}""", "cookie carries a credential" },
        { """{"X Bad": "x"}""", "'X Bad' is not a header name" },
        { """{"X-Split": "a\r\nInjected: yes"}""", "X-Split: A header value may hold printable ASCII characters only" },
        { """{"X-Empty": ""}""", "X-Empty: A header value is required." },
        { """{"X-A": "1", "x-a": "2"}""", "'X-A' is given 2 times" },
        { """{"X-Key": {"keySafeKeyId": "00000000-0000-0000-0000-000000000001"}}""", "X-Key: there is no KeySafe key with id 00000000-0000-0000-0000-000000000001." },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public async Task a_bad_header_is_a_field_error_and_nothing_is_written(string headers, string message)
    {
        var body = System.Text.Json.JsonSerializer.Serialize(DefinitionsSetup.Webhook("bad-headers"), Webhooks.Client.WebhooksClient.JsonOptions)
            .TrimEnd('}') + $", \"headers\": {headers}}}";
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Post.Text(body).ToUrl("/webhooks");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });

        (await result.Problem()).FieldErrors("headers").ShouldContain(m => m.Contains(message), string.Join(" | ", (await result.Problem()).FieldErrors("headers")));
        (await Fixture.Client(TestKeys.Admin).ListWebhooks()).Items.ShouldBeEmpty();
    }

    [Fact]
    public async Task too_many_headers_and_headers_the_key_sets_are_refused()
    {
        var bearer = await Fixture.Client(TestKeys.KeySafe).CreateKey(new CreateKey("b", KeyTypes.Bearer, null, null, null, Token: "t"));
        var apiKey = await Fixture.Client(TestKeys.KeySafe).CreateKey(new CreateKey("a", KeyTypes.ApiKeyHeader, null, null, null, HeaderName: "X-Api-Key", Value: "v"));
        var basic = await Fixture.CreatedKey();
        var admin = Fixture.Client(TestKeys.Admin);

        async Task<string[]> Refused(Guid? keyId, Dictionary<string, HeaderValue> headers) =>
            (await Should.ThrowAsync<ValidationApiException>(() => admin.DefineWebhook(
                DefinitionsSetup.Webhook("refused") with { Authentication = keyId is null ? null : new(keyId), Headers = headers }))).Content!.Errors["headers"];

        (await Refused(bearer.Id, new() { ["authorization"] = HeaderValue.FromKey(bearer.Id) })).ShouldBe(
            ["'authorization' is set by the webhook's KeySafe key (Authorization); remove the custom header or choose another key."]);
        (await Refused(apiKey.Id, new() { ["x-api-key"] = "other" })).Single().ShouldContain("set by the webhook's KeySafe key (X-Api-Key)");
        (await Refused(null, new() { ["X-Basic"] = HeaderValue.FromKey(basic.Id) })).Single().ShouldContain(
            "is of type httpBasic; a header's value may come from a key of type bearer or apiKeyHeader only.");
        (await Refused(null, Enumerable.Range(0, 21).ToDictionary(i => $"X-H{i}", _ => new HeaderValue("v")))).ShouldBe(
            ["A webhook may have at most 20 custom headers."]);

        // Without a key that sets it, Authorization is the admin's to set, from KeySafe.
        (await admin.DefineWebhook(DefinitionsSetup.Webhook("own-auth") with { Headers = new Dictionary<string, HeaderValue> { ["Authorization"] = HeaderValue.FromKey(apiKey.Id) } }))
            .Headers!["Authorization"].KeySafeKeyId.ShouldBe(apiKey.Id);
    }

    [Fact]
    public async Task a_header_value_that_is_neither_text_nor_a_key_reference_is_a_400()
    {
        var body = System.Text.Json.JsonSerializer.Serialize(DefinitionsSetup.Webhook("bad-json"), Webhooks.Client.WebhooksClient.JsonOptions)
            .TrimEnd('}') + ", \"headers\": {\"X-A\": {\"secret\": 1}}}";
        await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Post.Text(body).ToUrl("/webhooks");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });
    }
}
