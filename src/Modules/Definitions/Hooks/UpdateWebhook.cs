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

/// <summary>Replaces webhook <paramref name="WebhookId"/>'s definition, if it is still at <paramref name="IfMatch"/>'s version.</summary>
public sealed record UpdateWebhookCommand(Guid WebhookId, string Name, string? IfMatch, DefineWebhook Request, string Actor) : BuildingBlocks.IActorCommand;

public static class UpdateWebhookEndpoint
{
    public static async Task<ProblemDetails> ValidateAsync(
        DefineWebhook request, [FromHeader(Name = "If-Match")] string? ifMatch, IQuerySession session, IMessageBus bus,
        CancellationToken cancellation)
    {
        var errors = WebhookRules.Check(request);
        errors.Check(Versions.TryParseIfMatch(ifMatch, out _), "If-Match", "If-Match must be one version as the ETag gave it, e.g. \"3\".");
        await WebhookRules.CheckReferences(errors, request, session, bus, cancellation);
        return errors.ToProblem();
    }

    /// <summary>Replaces a webhook's whole definition (a rename included). Send If-Match to refuse stale changes (412).</summary>
    [WolverinePut("/webhooks/{name}", OperationId = "UpdateWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookDefinition>(StatusCodes.Status200OK)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status412PreconditionFailed, "application/problem+json")]
    public static async Task<IResult> Put(
        string name, DefineWebhook request, [FromHeader(Name = "If-Match")] string? ifMatch, IQuerySession session,
        IMessageBus bus, ClaimsPrincipal user, HttpResponse response, CancellationToken cancellation)
    {
        if (await WebhookLookup.IdOf(session, name, cancellation) is not { } id)
        {
            return Results.Problem(WebhookLookup.NotFound(name));
        }

        if (request.Name != name && await WebhookLookup.IdOf(session, request.Name!, cancellation) is not null)
        {
            return Results.Problem(WebhookLookup.NameTaken(request.Name!));
        }

        var write = await WebhookLookup.Write(bus, new UpdateWebhookCommand(id, name, ifMatch, request, user.Actor()), request.Name!, cancellation);
        return write.Answer(response, Results.Ok);
    }
}

public static class UpdateWebhookHandler
{
    /// <summary>Nothing when nothing changes; otherwise the new definition with each changed field's before and after.</summary>
    public static Decision Decide(UpdateWebhookCommand command, Webhook? current, DateTimeOffset now)
    {
        if (WebhookLookup.Refusal(current, command.Name, command.IfMatch) is { } refusal)
        {
            return Decision.Refuse(refusal);
        }

        var webhook = current!;

        var request = command.Request;
        var description = WebhookLookup.Blank(request.Description);
        var trigger = WebhookLookup.Blank(request.TriggerExpression);
        var enabled = request.Enabled ?? true;
        var settings = WebhookSettings.Of(request);
        var after = Webhook.Fields(request.Name!, description, request.Application!, request.EventSource!, enabled, request.KeySafeKeyId,
            request.Url!, request.PayloadFormat!, request.PostMode!, trigger, settings);
        var changes = webhook.Fields().Zip(after)
            .Where(pair => pair.First.Value != pair.Second.Value)
            .Select(pair => new FieldChange(pair.First.Field, pair.First.Value, pair.Second.Value))
            .ToList();
        return changes.Count == 0
            ? Decision.Nothing
            : Decision.Of(new WebhookUpdated(
                webhook.Id, request.Name!, description, request.Application!, request.EventSource!, enabled, request.KeySafeKeyId,
                request.Url!, request.PayloadFormat!, request.PostMode!, trigger, changes, command.Actor, now, settings));
    }

    public static (WebhookWrite, Events, OutgoingMessages) Handle(
        UpdateWebhookCommand command, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time) =>
        WebhookChanges.Emit(webhook, Decide(command, webhook, time.GetUtcNow()));
}
