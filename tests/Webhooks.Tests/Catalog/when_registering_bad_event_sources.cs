using System.Net;
using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Definitions.Catalog;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Catalog;

public sealed class when_registering_bad_event_sources(AppFixture fixture) : AppTest(fixture)
{
    [Theory]
    [InlineData("has space", "application")]
    [InlineData("slash%2Finside", "application")]
    [InlineData("colon:inside", "application")]
    public async Task a_bad_application_name_is_a_field_error(string application, string field)
    {
        var problem = await BadRequest($"/applications/{application}/event-sources/ok", new { entity = "Contact", @event = "update" });
        problem.FieldErrors(field).Single().ShouldContain("letters, digits");
    }

    [Fact]
    public async Task a_name_with_spaces_or_too_long_is_a_field_error()
    {
        var spaced = await BadRequest("/applications/app/event-sources/has%20space", new { entity = "Contact", @event = "update" });
        spaced.FieldErrors("name").Single().ShouldContain("no spaces");

        var tooLong = await BadRequest($"/applications/app/event-sources/{new string('n', 101)}", new { entity = "Contact", @event = "update" });
        tooLong.FieldErrors("name").Single().ShouldContain("at most 100");
    }

    [Theory]
    [InlineData("sometimes")]
    [InlineData("Update")]
    [InlineData("")]
    public async Task an_unknown_event_kind_names_the_allowed_ones(string kind)
    {
        var problem = await BadRequest("/applications/app/event-sources/x", new { entity = "Contact", @event = kind });
        problem.GetProperty("type").GetString().ShouldBe("urn:webhooks:validation");
        problem.FieldErrors("event").Single().ShouldContain("create, update, delete, created, updated, deleted");
    }

    [Fact]
    public async Task missing_entity_and_event_are_field_errors()
    {
        var problem = await BadRequest("/applications/app/event-sources/x", new { description = "nothing else" });
        problem.FieldErrors("entity").Single().ShouldContain("required");
        problem.FieldErrors("event").Single().ShouldContain("must be one of");
        problem.GetProperty("detail").GetString()!.ShouldContain("entity");
    }

    [Fact]
    public async Task a_bad_table_or_an_overlong_description_are_field_errors()
    {
        var problem = await BadRequest(
            "/applications/app/event-sources/x",
            new { entity = "Contact", table = "a b", @event = "update", description = new string('d', 2001) });
        problem.FieldErrors("table").ShouldNotBeEmpty();
        problem.FieldErrors("description").Single().ShouldContain("2000");
    }

    [Theory]
    [InlineData("{\"entity\":", "Invalid JSON")]
    [InlineData("{\"entity\": 5, \"event\": \"update\"}", "$.entity")]
    [InlineData("[1,2]", "Invalid JSON")]
    [InlineData("", "Invalid JSON")]
    public async Task malformed_or_mistyped_json_is_a_400_problem(string body, string mentioned)
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Put.Text(body).ToUrl("/applications/app/event-sources/x");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });

        var problem = await result.Problem();
        (problem.GetProperty("title").GetString() + problem.GetProperty("detail").GetString()).ShouldContain(mentioned);
        await NothingWasWritten();
    }

    [Fact]
    public async Task a_publisher_limited_to_another_application_is_forbidden()
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.LimitedPublisher);
            s.Put.Json(new { entity = "Contact", @event = "update" }).ToUrl("/applications/not-crm/event-sources/x");
            s.StatusCodeShouldBe(HttpStatusCode.Forbidden);
        });

        (await result.Problem()).GetProperty("detail").GetString()!.ShouldContain("not-crm");
        await NothingWasWritten();
    }

    [Fact]
    public async Task a_publisher_may_register_sources_for_its_own_application_and_sees_only_those()
    {
        await Host.RegisteredEventSource("elsewhere", "x");
        await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.LimitedPublisher);
            s.Put.Json(new { entity = "Contact", @event = "update" }).ToUrl($"/applications/{TestKeys.LimitedApplication}/event-sources/x");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });

        var client = Fixture.Client(TestKeys.LimitedPublisher);
        (await client.ListApplications()).Items.Select(a => a.Name).ShouldBe([TestKeys.LimitedApplication]);
        await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.LimitedPublisher);
            s.Get.Url("/applications/elsewhere/event-sources");
            s.StatusCodeShouldBe(HttpStatusCode.Forbidden);
        });
    }

    [Fact]
    public async Task an_unknown_application_is_a_404_problem()
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Get.Url("/applications/nobody/event-sources");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
        (await result.Problem()).GetProperty("detail").GetString()!.ShouldContain("nobody");
    }

    [Theory]
    [InlineData("/applications?limit=0", "limit")]
    [InlineData("/applications?limit=501", "limit")]
    [InlineData("/applications?after=%25%25not-a-cursor", "after")]
    public async Task bad_paging_parameters_are_field_errors(string url, string field)
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Get.Url(url);
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });
        (await result.Problem()).FieldErrors(field).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task an_unparseable_limit_is_a_400_problem()
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Get.Url("/applications?limit=lots");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });
        (await result.Problem()).GetRawText().ShouldContain("limit");
    }

    private async Task<System.Text.Json.JsonElement> BadRequest(string url, object body)
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Put.Json(body).ToUrl(url);
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });
        await NothingWasWritten();
        return await result.Problem();
    }

    private async Task NothingWasWritten()
    {
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.Events.QueryAllRawEvents().CountAsync()).ShouldBe(0);
        (await session.Query<EventSource>().CountAsync()).ShouldBe(0);
    }
}
