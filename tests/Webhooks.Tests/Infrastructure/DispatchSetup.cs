using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Alba;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Wolverine.Tracking;

namespace Webhooks.Tests.Infrastructure;

public static class DispatchSetup
{
    public static readonly object Record = new { h_pk_id = "103", h_name = "Gary", h_email = "g@example.com", h_jobtitle = "test" };

    /// <summary>The catalog's event source, known to Dispatch once this returns.</summary>
    public static async Task DispatchCatalog(this AppFixture fixture) =>
        await fixture.Host.ExecuteAndWaitAsync(() => fixture.Catalog());

    /// <summary>A webhook to a receiver, known to Dispatch once this returns.</summary>
    public static async Task<WebhookDefinition> Hook(
        this AppFixture fixture, string name, Uri url, string postMode = PostModes.Async, string format = PayloadFormats.Json,
        Guid? keyId = null, string? trigger = null, Guid? authenticationKeyId = null)
    {
        WebhookDefinition webhook = null!;
        await fixture.Host.ExecuteAndWaitAsync(async () => webhook = await fixture.DefinedWebhook(DefinitionsSetup.Webhook(name) with
        {
            Url = url.ToString(),
            PostMode = postMode,
            PayloadFormat = format,
            KeySafeKeyId = keyId,
            Authentication = authenticationKeyId is null ? null : new WebhookAuthentication(authenticationKeyId),
            TriggerExpression = trigger,
        }));
        return webhook;
    }

    /// <summary>
    /// On a host of a test's own: the catalog's event source and <paramref name="webhook"/>, both known to Dispatch once
    /// this returns (a second call only defines another webhook: registering the source again changes nothing).
    /// </summary>
    public static async Task<WebhookDefinition> Define(this IAlbaHost host, Webhooks.Definitions.Contracts.DefineWebhook webhook)
    {
        var admin = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Admin);
        await host.ExecuteAndWaitAsync(() => admin.RegisterEventSource(DefinitionsSetup.Application, DefinitionsSetup.EventSource,
            new RegisterEventSource("Contact", null, "update")));
        WebhookDefinition defined = null!;
        await host.ExecuteAndWaitAsync(async () => defined = await admin.DefineWebhook(webhook));
        return defined;
    }

    /// <summary>
    /// The delivery attempts a tracked session saw sent: single messages (retries, redeliveries) and the first attempts
    /// a group commit sends together in one message.
    /// </summary>
    public static IReadOnlyList<Webhooks.Dispatch.Delivery.DeliverWebhook> Deliveries(this ITrackedSession tracked) =>
        tracked.Sent.MessagesOf<Webhooks.Dispatch.Delivery.DeliverWebhook>()
            .Concat(tracked.Sent.MessagesOf<Webhooks.Dispatch.Delivery.DeliverWebhooks>().SelectMany(b => b.Deliveries))
            .ToList();

    public static object Event(object? record = null, string? actionBy = "admin") => new
    {
        application = DefinitionsSetup.Application,
        eventSource = DefinitionsSetup.EventSource,
        actionBy,
        actionByName = "System Administrator",
        callingSessionId = "U2015111600017554",
        record = record ?? Record,
    };

    /// <summary>Publishes over HTTP as a publisher and expects <paramref name="status"/>; waits for the cascaded work too.</summary>
    public static async Task<JsonElement> Publish(
        this IAlbaHost host, HttpStatusCode status, object? body = null, string? idempotencyKey = null, string? apiKey = null) =>
        (await host.PublishTracked(status, body, idempotencyKey, apiKey)).Answer;

    /// <summary>
    /// Publishes and waits until every message it caused was handled: the tracked session says what was sent and
    /// handled (a delivery not made is stated from it, instead of sleeping and seeing nothing arrive).
    /// </summary>
    public static async Task<(JsonElement Answer, ITrackedSession Tracked)> PublishTracked(
        this IAlbaHost host, HttpStatusCode status, object? body = null, string? idempotencyKey = null, string? apiKey = null)
    {
        IScenarioResult result = null!;
        var tracked = await host.ExecuteAndWaitAsync(async () => result = await host.Scenario(s =>
        {
            s.WithKey(apiKey ?? TestKeys.Publisher);
            s.Post.Json(body ?? Event()).ToUrl("/events");
            if (idempotencyKey is not null)
            {
                s.WithRequestHeader("Idempotency-Key", idempotencyKey);
            }

            s.StatusCodeShouldBe(status);
        }), timeoutInMilliseconds: 20_000);
        return (JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone(), tracked);
    }

    /// <summary>
    /// Standard Webhooks verification, written from the specification (not from the production signer):
    /// HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}" with the base64 key after "whsec_".
    /// </summary>
    public static bool SignedBy(Received request, string secret)
    {
        var key = Convert.FromBase64String(secret.Split('_', 2)[1]);
        var signed = Encoding.UTF8.GetBytes($"{request.Header("webhook-id")}.{request.Header("webhook-timestamp")}.").Concat(request.Body).ToArray();
        var expected = Convert.FromBase64String(Convert.ToBase64String(HMACSHA256.HashData(key, signed)));
        return request.Header("webhook-signature")!.Split(' ')
            .Where(s => s.StartsWith("v1,", StringComparison.Ordinal))
            .Any(s => CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(s[3..]), expected));
    }
}
