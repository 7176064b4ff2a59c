using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

namespace Webhooks.Definitions.Hooks;

public sealed record DeleteWebhookCommand(Guid WebhookId, string Name, string? IfMatch, string Actor) : BuildingBlocks.IActorCommand;

public static class DeleteWebhookEndpoint
{
    public static ProblemDetails Validate([FromHeader(Name = "If-Match")] string? ifMatch) => Versions.ValidateIfMatch(ifMatch);

    /// <summary>Deletes a webhook; its name is free again. Its history stays in the audit log.</summary>
    [WolverineDelete("/webhooks/{name}", OperationId = "DeleteWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status412PreconditionFailed, "application/problem+json")]
    public static async Task<IResult> Delete(
        string name, [FromHeader(Name = "If-Match")] string? ifMatch, IQuerySession session, IMessageBus bus, ClaimsPrincipal user,
        CancellationToken cancellation)
    {
        var write = await WebhookLookup.Change(session, bus, name, id => new DeleteWebhookCommand(id, name, ifMatch, user.Actor()), cancellation);
        return write.Refusal is { } refusal ? Results.Problem(refusal) : Results.NoContent();
    }
}

public static class DeleteWebhookHandler
{
    public static Decision Decide(DeleteWebhookCommand command, Webhook? webhook, DateTimeOffset now) =>
        WebhookLookup.Refusal(webhook, command.Name, command.IfMatch) is { } refusal
            ? Decision.Refuse(refusal)
            : Decision.Of(new WebhookDeleted(webhook!.Id, webhook.Name, command.Actor, now));

    public static (WebhookWrite, Events, OutgoingMessages) Handle(
        DeleteWebhookCommand command, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time) =>
        WebhookChanges.Emit(webhook, Decide(command, webhook, time.GetUtcNow()));
}
