using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

namespace Webhooks.Definitions.Hooks;

public sealed record EnableWebhookCommand(Guid WebhookId, string Name, string? IfMatch, string Actor, string Pending = PendingOnEnable.Resume) : BuildingBlocks.IActorCommand;

public static class EnableWebhookEndpoint
{
    public static ProblemDetails Validate([FromHeader(Name = "If-Match")] string? ifMatch, string? pending) =>
        pending is not null && !PendingOnEnable.All.Contains(pending, StringComparer.Ordinal)
            ? new FieldErrors().Add("pending", $"pending must be one of: {string.Join(", ", PendingOnEnable.All)}.").ToProblem()
            : Versions.ValidateIfMatch(ifMatch);

    /// <summary>
    /// Enables a webhook. Its deliveries that came due while it was disabled waited (parked): <c>?pending=resume</c> (the
    /// default) makes them now, <c>?pending=fail</c> fails them (recoverable later). Enabling an enabled webhook changes nothing.
    /// </summary>
    [WolverinePost("/webhooks/{name}/enable", OperationId = "EnableWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookDefinition>(StatusCodes.Status200OK)]
    public static async Task<IResult> Post(
        string name, [FromHeader(Name = "If-Match")] string? ifMatch, string? pending, IQuerySession session, IMessageBus bus,
        ClaimsPrincipal user, HttpResponse response, CancellationToken cancellation) =>
        (await WebhookLookup.Change(
            session, bus, name, id => new EnableWebhookCommand(id, name, ifMatch, user.Actor(), pending ?? PendingOnEnable.Resume), cancellation))
            .Answer(response, Results.Ok);
}

public static class EnableWebhookHandler
{
    public static Decision Decide(EnableWebhookCommand command, Webhook? webhook, DateTimeOffset now) =>
        WebhookLookup.Refusal(webhook, command.Name, command.IfMatch) is { } refusal ? Decision.Refuse(refusal)
        : webhook!.Enabled ? Decision.Nothing
        : Decision.Of(new WebhookEnabled(webhook.Id, command.Actor, now, command.Pending));

    public static (WebhookWrite, Events, OutgoingMessages) Handle(
        EnableWebhookCommand command, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time)
    {
        var (write, events, messages) = WebhookChanges.Emit(webhook, Decide(command, webhook, time.GetUtcNow()));
        if (events.Count > 0 && write.Webhook is { } enabled)
        {
            // With the enabling, in its transaction: Dispatch resumes or fails the deliveries parked meanwhile.
            messages.Add(new ParkedDeliveriesOnEnable(enabled.Id, enabled.Version, command.Pending, command.Actor));
        }

        return (write, events, messages);
    }
}
