using System.Text.Json;
using Alba;
using Webhooks.Definitions.Contracts;

namespace Webhooks.Tests.Infrastructure;

public static class ScenarioExtensions
{
    public static void WithKey(this Scenario scenario, string apiKey) =>
        scenario.WithRequestHeader("Authorization", $"Bearer {apiKey}");

    /// <summary>Reads a problem+json answer.</summary>
    public static async Task<JsonElement> Problem(this IScenarioResult result)
    {
        result.Context.Response.ContentType.ShouldStartWith("application/problem+json");
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
    }

    public static string[] FieldErrors(this JsonElement problem, string field) =>
        problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToArray();

    /// <summary>Sets up an event source through the API, as an admin.</summary>
    public static async Task<EventSourceView> RegisteredEventSource(
        this IAlbaHost host, string application, string name, string entity = "Contact", string @event = EntityEvents.Update)
    {
        var result = await host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Put.Json(new RegisterEventSource(entity, null, @event)).ToUrl($"/applications/{application}/event-sources/{name}");
            s.IgnoreStatusCode();
        });
        result.Context.Response.StatusCode.ShouldBeInRange(200, 201, await result.ReadAsTextAsync());
        return (await result.ReadAsJsonAsync<EventSourceView>())!;
    }
}

public static class KeySafeSetup
{
    /// <summary>Creates an httpBasic key through the SDK, as a keysafe user.</summary>
    public static Task<Webhooks.KeySafe.Contracts.KeyView> CreatedKey(
        this AppFixture fixture, string name = "crm basic", string username = "crm-user", string password = "s3cret-pw") =>
        fixture.Client(TestKeys.KeySafe).CreateKey(
            new Webhooks.KeySafe.Contracts.CreateKey(name, Webhooks.KeySafe.Contracts.KeyTypes.HttpBasic, null, username, password));
}

public static class DefinitionsSetup
{
    /// <summary>
    /// Waits until the audit log's projections (asynchronous: they follow the committed events) have every change
    /// made so far.
    /// </summary>
    public static Task AuditCaughtUp(this AppFixture fixture) =>
        Marten.Events.TestingExtensions.WaitForNonStaleProjectionDataAsync(fixture.Host, TimeSpan.FromSeconds(30));

    public const string Application = "com.hornbill.servicemanager";
    public const string EventSource = "contact-update";

    /// <summary>A valid definition for the test catalog's event source; change what a test needs with <c>with</c>.</summary>
    public static Webhooks.Definitions.Contracts.DefineWebhook Webhook(string name = "notify-crm") => new(
        name, "tell the CRM", Application, EventSource, true, null, "https://crm.example.com/hooks/contact",
        Webhooks.Definitions.Contracts.PayloadFormats.Json, Webhooks.Definitions.Contracts.PostModes.Async, null);

    /// <summary>Registers the event source the default definition uses.</summary>
    public static Task Catalog(this AppFixture fixture) => fixture.Host.RegisteredEventSource(Application, EventSource);

    public static async Task<Webhooks.Definitions.Contracts.WebhookDefinition> DefinedWebhook(
        this AppFixture fixture, Webhooks.Definitions.Contracts.DefineWebhook? webhook = null) =>
        await fixture.Client(TestKeys.Admin).DefineWebhook(webhook ?? Webhook());
}
