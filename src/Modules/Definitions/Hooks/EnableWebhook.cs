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

public sealed record EnableWebhookCommand(Guid WebhookId, string Name, string? IfMatch, string Actor) : BuildingBlocks.IActorCommand;

public static class EnableWebhookEndpoint
{
    public static ProblemDetails Validate([FromHeader(Name = "If-Match")] string? ifMatch) => Versions.ValidateIfMatch(ifMatch);

    /// <summary>Enables a webhook. Enabling an enabled webhook changes nothing.</summary>
    [WolverinePost("/webhooks/{name}/enable", OperationId = "EnableWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookDefinition>(StatusCodes.Status200OK)]
    public static async Task<IResult> Post(
        string name, [FromHeader(Name = "If-Match")] string? ifMatch, IQuerySession session, IMessageBus bus, ClaimsPrincipal user,
        HttpResponse response, CancellationToken cancellation) =>
        (await WebhookLookup.Change(session, bus, name, id => new EnableWebhookCommand(id, name, ifMatch, user.Actor()), cancellation))
            .Answer(response, Results.Ok);
}

public static class EnableWebhookHandler
{
    public static Decision Decide(EnableWebhookCommand command, Webhook? webhook, DateTimeOffset now) =>
        WebhookLookup.Refusal(webhook, command.Name, command.IfMatch) is { } refusal ? Decision.Refuse(refusal)
        : webhook!.Enabled ? Decision.Nothing
        : Decision.Of(new WebhookEnabled(webhook.Id, command.Actor, now));

    public static (WebhookWrite, Events, OutgoingMessages) Handle(
        EnableWebhookCommand command, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time) =>
        WebhookChanges.Emit(webhook, Decide(command, webhook, time.GetUtcNow()));
}
