using System.Net;
using System.Text.Json;
using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Definitions;

public sealed class when_defining_bad_webhooks(AppFixture fixture) : AppTest(fixture)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.Catalog();
    }

    public static TheoryData<string, Func<DefineWebhook, DefineWebhook>, string> BadDefinitions => new()
    {
        { "name", w => w with { Name = null }, "required" },
        { "name", w => w with { Name = "has space" }, "no spaces" },
        { "name", w => w with { Name = "tab\tname" }, "no spaces" },
        { "name", w => w with { Name = new string('n', 101) }, "at most 100" },
        { "application", w => w with { Application = null }, "required" },
        { "eventSource", w => w with { EventSource = "" }, "required" },
        { "eventSource", w => w with { EventSource = "no-such-source" }, "has no event source 'no-such-source'" },
        { "eventSource", w => w with { Application = "no-such-app" }, "register it first" },
        { "url", w => w with { Url = null }, "required" },
        { "url", w => w with { Url = "/relative/path" }, "absolute http or https" },
        { "url", w => w with { Url = "ftp://example.com/x" }, "absolute http or https" },
        { "url", w => w with { Url = "not a url" }, "absolute http or https" },
        { "url", w => w with { Url = "https://user:pw@example.com/x" }, "KeySafe" },
        { "url", w => w with { Url = "https://example.com/x#frag" }, "fragment" },
        { "url", w => w with { Url = "https://example.com/" + new string('p', 2048) }, "at most 2048" },
        { "payloadFormat", w => w with { PayloadFormat = "yaml" }, "json, xml" },
        { "payloadFormat", w => w with { PayloadFormat = null }, "json, xml" },
        { "postMode", w => w with { PostMode = "SYNC" }, "async, sync, syncCritical" },
        { "postMode", w => w with { PostMode = null }, "async, sync, syncCritical" },
        { "keySafeKeyId", w => w with { KeySafeKeyId = Guid.Empty }, "no KeySafe key" },
        { "triggerExpression", w => w with { TriggerExpression = "h_name = " }, "at position 10" },
        { "triggerExpression", w => w with { TriggerExpression = "FOO(x) = 1" }, "unknown function 'FOO'" },
        { "description", w => w with { Description = new string('d', 2001) }, "at most 2000" },
    };

    [Theory]
    [MemberData(nameof(BadDefinitions))]
    public async Task each_rule_is_a_field_error_and_nothing_is_written(string field, Func<DefineWebhook, DefineWebhook> spoil, string message)
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Post.Json(spoil(DefinitionsSetup.Webhook())).ToUrl("/webhooks");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });

        (await result.Problem()).FieldErrors(field).ShouldContain(m => m.Contains(message), $"{field}: {message}");
        await NoWebhookWasWritten();
    }

    [Fact]
    public async Task the_same_rules_hold_for_a_full_update()
    {
        await Fixture.DefinedWebhook();
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Put.Json(DefinitionsSetup.Webhook() with { Url = "nope", PostMode = "later" }).ToUrl("/webhooks/notify-crm");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });

        var problem = await result.Problem();
        problem.FieldErrors("url").ShouldNotBeEmpty();
        problem.FieldErrors("postMode").ShouldNotBeEmpty();
        (await Fixture.Client(TestKeys.Admin).GetWebhook("notify-crm")).Version.ShouldBe(1);
    }

    [Fact]
    public async Task a_duplicate_name_is_a_409_whether_defined_or_renamed_to()
    {
        await Fixture.DefinedWebhook();
        await Fixture.DefinedWebhook(DefinitionsSetup.Webhook("other"));

        await Expect(HttpStatusCode.Conflict, s => s.Post.Json(DefinitionsSetup.Webhook()).ToUrl("/webhooks"));
        await Expect(HttpStatusCode.Conflict, s => s.Put.Json(DefinitionsSetup.Webhook("notify-crm")).ToUrl("/webhooks/other"));
    }

    [Fact]
    public async Task concurrent_definitions_of_one_name_create_exactly_one_webhook()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            try
            {
                await admin.DefineWebhook(DefinitionsSetup.Webhook("raced") with { Description = $"writer {i}" });
                return HttpStatusCode.Created;
            }
            catch (Refit.ApiException e)
            {
                return e.StatusCode;
            }
        }));

        outcomes.Count(code => code == HttpStatusCode.Created).ShouldBe(1);
        outcomes.ShouldAllBe(code => code == HttpStatusCode.Created || code == HttpStatusCode.Conflict);
        (await admin.ListWebhooks()).Items.ShouldHaveSingleItem();
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("\"1\", \"2\"")]
    public async Task a_malformed_if_match_is_a_400(string ifMatch)
    {
        await Fixture.DefinedWebhook();
        await Expect(HttpStatusCode.BadRequest, s =>
        {
            s.Post.Url("/webhooks/notify-crm/disable");
            s.WithRequestHeader("If-Match", ifMatch);
        });
    }

    [Fact]
    public async Task an_unknown_webhook_is_a_404_problem_everywhere()
    {
        await Expect(HttpStatusCode.NotFound, s => s.Get.Url("/webhooks/ghost"));
        await Expect(HttpStatusCode.NotFound, s => s.Put.Json(DefinitionsSetup.Webhook("ghost")).ToUrl("/webhooks/ghost"));
        await Expect(HttpStatusCode.NotFound, s => s.Delete.Url("/webhooks/ghost"));
        await Expect(HttpStatusCode.NotFound, s => s.Post.Url("/webhooks/ghost/enable"));
        await Expect(HttpStatusCode.NotFound, s => s.Post.Url("/webhooks/ghost/disable"));
        await Expect(HttpStatusCode.NotFound, s => s.Get.Url("/webhooks/ghost/history"));
        await Expect(HttpStatusCode.NotFound, s => s.Get.Url("/webhooks/ghost/signing-secret"));
        await Expect(HttpStatusCode.NotFound, s => s.Post.Url("/webhooks/ghost/signing-secret/rotate"));
    }

    [Fact]
    public async Task as_of_before_the_webhook_existed_is_a_404_and_an_unreadable_time_a_400()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        await Fixture.DefinedWebhook();

        await Expect(HttpStatusCode.NotFound, s => s.Get.Url($"/webhooks/notify-crm?asOf={Uri.EscapeDataString(before.ToString("O"))}"));
        await Expect(HttpStatusCode.BadRequest, s => s.Get.Url("/webhooks/notify-crm?asOf=yesterday"));
    }

    [Fact]
    public async Task malformed_json_and_wrong_types_are_400_problems()
    {
        await Expect(HttpStatusCode.BadRequest, s =>
        {
            s.Post.Text("{\"name\":").ToUrl("/webhooks");
            s.WithRequestHeader("Content-Type", "application/json");
        });
        await Expect(HttpStatusCode.BadRequest, s =>
        {
            s.Post.Text("{\"name\":\"x\",\"enabled\":\"yes\"}").ToUrl("/webhooks");
            s.WithRequestHeader("Content-Type", "application/json");
        });
        await Expect(HttpStatusCode.BadRequest, s =>
        {
            s.Post.Text("{\"name\":\"x\",\"keySafeKeyId\":\"not-a-guid\"}").ToUrl("/webhooks");
            s.WithRequestHeader("Content-Type", "application/json");
        });
        await NoWebhookWasWritten();
    }

    private async Task Expect(HttpStatusCode status, Action<Scenario> request)
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            request(s);
            s.StatusCodeShouldBe(status);
        });
        await result.Problem();
    }

    private async Task NoWebhookWasWritten()
    {
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.Query<Webhooks.Definitions.Hooks.Webhook>().CountAsync()).ShouldBe(0);
        (await session.Events.QueryRawEventDataOnly<Webhooks.Definitions.Hooks.WebhookDefined>().CountAsync()).ShouldBe(0);
    }
}
