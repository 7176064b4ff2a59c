using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Batching;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Outbound;
using Webhooks.Dispatch.Rendering;
using Webhooks.Dispatch.Routing;
using Wolverine.Http;

namespace Webhooks.Dispatch.History;

public static class TestWebhookEndpoint
{
    /// <summary>
    /// Sends the event source's sample record to the webhook's target now, through the real delivery path (signed,
    /// authenticated, SSRF-guarded), whatever its post mode or trigger, and answers the attempt. The delivery is kept
    /// in the history like any other.
    /// </summary>
    [WolverinePost("/webhooks/{name}/test", OperationId = "TestWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookTestResult>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Post(
        string name, DispatchCatalog catalog, TargetCaller caller, GroupCommit commits, DispatchOptions options, ClaimsPrincipal user,
        TimeProvider time, CancellationToken cancellation)
    {
        if (catalog.FindByName(name) is not { } route)
        {
            return Results.Problem(Problems.NotFound($"There is no webhook named '{name}'."));
        }

        var webhook = route.Definition;
        if (catalog.Source(webhook.Application, webhook.EventSource) is not { } source)
        {
            return Results.Problem(Problems.NotFound($"The event source '{webhook.Application}/{webhook.EventSource}' is not in the catalog."));
        }

        var now = time.GetUtcNow();
        var record = source.SampleRecord ?? JsonSerializer.SerializeToElement(new { });
        var entity = new EntityEvent(source, now, user.Actor(), null, null, record);
        var body = Payload.For(webhook.PayloadFormat, entity);
        var (eventId, deliveryId) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        var outcome = await caller.Post(webhook, deliveryId, body, options.SyncTimeout, cancellation);
        var attempted = Attempts.Attempted(deliveryId, 1, now, outcome);

        await commits.Commit((session, _) =>
        {
            session.Events.StartStream(eventId,
                new EventPublished(
                    eventId, source.Application, source.Name, user.Actor(), null, null, record, EventVerdicts.Test, [deliveryId], user.Actor(), now),
                new DeliveryScheduled(deliveryId, eventId, webhook.Id, webhook.Name, webhook.Url, webhook.PostMode, webhook.PayloadFormat, now),
                attempted,
                outcome.Succeeded ? new DeliverySucceeded(deliveryId, now) : new DeliveryFailed(deliveryId, outcome.Describe(webhook.Name), now));
            return ValueTask.CompletedTask;
        });

        return Results.Ok(new WebhookTestResult(
            deliveryId,
            outcome.Succeeded ? DeliveryStatuses.Succeeded : DeliveryStatuses.Failed,
            new AttemptView(1, now, outcome.StatusCode, outcome.DurationMs, outcome.ResponseExcerpt, outcome.Error, outcome.RequestHeaders)));
    }
}
