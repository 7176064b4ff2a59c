using System.Net;
using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Dispatch.Delivery;
using Webhooks.Tests.Infrastructure;
using Wolverine;

namespace Webhooks.Tests.Dispatch;

public sealed class when_publishing_bad_events(AppFixture fixture) : AppTest(fixture)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.DispatchCatalog();
    }

    [Fact]
    public async Task an_unknown_application_is_a_404_and_an_unknown_event_source_a_400()
    {
        var unknownApp = await Host.Publish(HttpStatusCode.NotFound, new { application = "nobody", eventSource = "x", record = new { } });
        unknownApp.GetProperty("detail").GetString()!.ShouldContain("nobody");

        var unknownSource = await Host.Publish(HttpStatusCode.BadRequest,
            new { application = DefinitionsSetup.Application, eventSource = "nothing-here", record = new { } });
        unknownSource.GetProperty("errors").GetProperty("eventSource")[0].GetString()!.ShouldContain("nothing-here");
        await NothingPublished();
    }

    [Theory]
    [InlineData("""{"eventSource":"contact-update","record":{}}""", "application")]
    [InlineData("""{"application":"com.hornbill.servicemanager","record":{}}""", "eventSource")]
    [InlineData("""{"application":"com.hornbill.servicemanager","eventSource":"contact-update"}""", "record")]
    [InlineData("""{"application":"com.hornbill.servicemanager","eventSource":"contact-update","record":[1,2]}""", "record")]
    [InlineData("""{"application":"com.hornbill.servicemanager","eventSource":"contact-update","record":"text"}""", "record")]
    public async Task missing_or_mistyped_fields_are_field_errors(string body, string field)
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Publisher);
            s.Post.Text(body).ToUrl("/events");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });
        (await result.Problem()).FieldErrors(field).ShouldNotBeEmpty();
        await NothingPublished();
    }

    [Fact]
    public async Task malformed_json_is_a_400_problem()
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Publisher);
            s.Post.Text("{\"application\":").ToUrl("/events");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });
        await result.Problem();
    }

    [Fact]
    public async Task a_body_over_the_limit_is_a_413_problem()
    {
        var huge = new string('x', 20_000);
        var problem = await Host.Publish(HttpStatusCode.RequestEntityTooLarge, DispatchSetup.Event(new { h_blob = huge }));

        problem.GetProperty("detail").GetString()!.ShouldContain("16384");
        await NothingPublished();
    }

    [Fact]
    public async Task a_publisher_limited_to_another_application_is_forbidden_and_other_roles_may_not_publish()
    {
        var limited = await Host.Publish(HttpStatusCode.Forbidden, apiKey: TestKeys.LimitedPublisher);
        limited.GetProperty("detail").GetString()!.ShouldContain(DefinitionsSetup.Application);

        await Host.Publish(HttpStatusCode.Forbidden, apiKey: TestKeys.Admin);
        await Host.Publish(HttpStatusCode.Forbidden, apiKey: TestKeys.Auditor);
        await NothingPublished();
    }

    [Fact]
    public async Task an_over_long_idempotency_key_is_a_field_error()
    {
        var problem = await Host.Publish(HttpStatusCode.BadRequest, idempotencyKey: new string('k', 256));
        problem.GetProperty("errors").GetProperty("Idempotency-Key").GetArrayLength().ShouldBe(1);
    }

    [Fact]
    public async Task an_in_process_publish_with_a_nul_in_its_record_is_refused_naming_the_field()
    {
        var record = System.Text.Json.JsonDocument.Parse("""{"h_pk_id":"1","h_name":"x\u0000y"}""").RootElement;
        var refused = await Should.ThrowAsync<Webhooks.Dispatch.Publishing.PublishRefusedException>(() =>
            Host.MessageBus().InvokeAsync<Webhooks.Dispatch.Contracts.PublishResult>(
                new Webhooks.Dispatch.Contracts.PublishEntityEvent(DefinitionsSetup.Application, DefinitionsSetup.EventSource, "me", null, null, record)));

        ((Microsoft.AspNetCore.Mvc.ValidationProblemDetails)refused.Problem).Errors.ShouldContainKey("record.h_name");
        await NothingPublished();
    }

    private async Task NothingPublished()
    {
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.Events.QueryRawEventDataOnly<EventPublished>().CountAsync()).ShouldBe(0);
    }
}
