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

/// <summary>Defines webhook <paramref name="WebhookId"/> as <paramref name="Request"/> says (checked already).</summary>
public sealed record DefineWebhookCommand(Guid WebhookId, DefineWebhook Request, string Actor) : BuildingBlocks.IActorCommand;

public static class DefineWebhookEndpoint
{
    public static async Task<ProblemDetails> ValidateAsync(
        DefineWebhook request, IQuerySession session, IMessageBus bus, CancellationToken cancellation)
    {
        var errors = WebhookRules.Check(request);
        await WebhookRules.CheckReferences(errors, request, session, bus, cancellation);
        return errors.ToProblem();
    }

    /// <summary>Defines a webhook; it is called from the next matching event on (when enabled).</summary>
    [WolverinePost("/webhooks", OperationId = "DefineWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookDefinition>(StatusCodes.Status201Created)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public static async Task<IResult> Post(
        DefineWebhook request, IQuerySession session, IMessageBus bus, ClaimsPrincipal user, HttpResponse response,
        CancellationToken cancellation)
    {
        // A name taken by a racing definition is refused by the unique index on names when the second one commits.
        if (await WebhookLookup.IdOf(session, request.Name!, cancellation) is not null)
        {
            return Results.Problem(WebhookLookup.NameTaken(request.Name!));
        }

        var write = await WebhookLookup.Write(bus, new DefineWebhookCommand(Guid.CreateVersion7(), request, user.Actor()), request.Name!, cancellation);
        return write.Answer(response, webhook => Results.Created($"/webhooks/{webhook.Name}", webhook));
    }
}

public static class DefineWebhookHandler
{
    /// <summary>The webhook's first event; its key is held and Dispatch told through the outbox, in the same transaction.</summary>
    public static Decision Decide(DefineWebhookCommand command, DateTimeOffset now)
    {
        var request = command.Request;
        return Decision.Of(new WebhookDefined(
            command.WebhookId, request.Name!, WebhookLookup.Blank(request.Description), request.Application!, request.EventSource!,
            request.Enabled ?? true, request.KeySafeKeyId, request.Url!, request.PayloadFormat!, request.PostMode!,
            WebhookLookup.Blank(request.TriggerExpression), command.Actor, now, SigningDerived: true, WebhookSettings.Of(request)));
    }

    public static (WebhookWrite, IStartStream, OutgoingMessages) Handle(DefineWebhookCommand command, TimeProvider time)
    {
        var (write, events, messages) = WebhookChanges.Emit(null, Decide(command, time.GetUtcNow()));
        return (write, MartenOps.StartStream<Webhook>(command.WebhookId, [.. events]), messages);
    }
}
