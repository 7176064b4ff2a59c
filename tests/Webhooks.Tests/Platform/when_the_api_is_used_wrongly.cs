using System.Net;
using Alba;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

public sealed class when_the_api_is_used_wrongly(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task an_unknown_route_is_a_404_problem_that_points_at_the_api_description()
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Get.Url("/no/such/thing");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });

        var problem = await result.Problem();
        problem.GetProperty("detail").GetString()!.ShouldContain("/openapi/v1.json");
    }

    [Fact]
    public async Task a_wrong_method_is_a_405_problem()
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Delete.Url("/applications");
            s.StatusCodeShouldBe(HttpStatusCode.MethodNotAllowed);
        });

        (await result.Problem()).GetProperty("detail").GetString()!.ShouldContain("DELETE");
    }
}

public sealed class when_operating_the_service(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task liveness_and_readiness_answer_without_a_key()
    {
        await Host.Scenario(s =>
        {
            s.Get.Url("/health");
            s.StatusCodeShouldBeOk();
            s.ContentShouldBe("Healthy");
        });
        var ready = await Host.Scenario(s =>
        {
            s.Get.Url("/health/ready");
            s.StatusCodeShouldBeOk();
        });
        var report = System.Text.Json.JsonDocument.Parse(await ready.ReadAsTextAsync()).RootElement;
        report.GetProperty("status").GetString().ShouldBe("Healthy");
        report.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString())
            .ShouldBe(["database", "delivery pipeline"], ignoreOrder: true);
    }

    [Fact]
    public async Task the_openapi_document_describes_the_catalog_and_the_bearer_scheme()
    {
        var result = await Host.Scenario(s =>
        {
            s.Get.Url("/openapi/v1.json");
            s.StatusCodeShouldBeOk();
        });

        var document = await result.ReadAsTextAsync();
        document.ShouldContain("\"/applications/{application}/event-sources/{name}\"");
        document.ShouldContain("\"/applications\"");
        document.ShouldContain("\"bearer\"");
        document.ShouldContain("RegisterEventSource");
    }

    [Fact]
    public async Task the_openapi_document_says_a_header_value_is_text_or_a_key_reference()
    {
        var result = await Host.Scenario(s =>
        {
            s.Get.Url("/openapi/v1.json");
            s.StatusCodeShouldBeOk();
        });

        using var document = System.Text.Json.JsonDocument.Parse(await result.ReadAsTextAsync());
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        var oneOf = schemas.GetProperty("DefineWebhook").GetProperty("properties").GetProperty("headers").GetProperty("additionalProperties").GetProperty("oneOf");
        oneOf[0].GetProperty("type").GetString().ShouldBe("string");
        oneOf[1].GetProperty("required")[0].GetString().ShouldBe("keySafeKeyId");
        var createKey = schemas.GetProperty("CreateKey").GetProperty("properties");
        foreach (var field in new[] { "token", "headerName", "value", "tokenUrl", "clientId", "clientSecret", "scope", "certificatePem", "privateKeyPem", "pkcs12Base64", "pkcs12Password" })
        {
            createKey.TryGetProperty(field, out _).ShouldBeTrue(field);
        }
    }

    [Fact]
    public async Task the_api_reference_ui_is_served()
    {
        var result = await Host.Scenario(s =>
        {
            s.Get.Url("/scalar/v1");
            s.StatusCodeShouldBeOk();
        });
        (await result.ReadAsTextAsync()).ShouldContain("<html", Case.Insensitive);
    }
}
