using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Webhooks.KeySafe.Contracts;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

namespace Webhooks.Definitions.Hooks;

public static class GetSigningSecretEndpoint
{
    /// <summary>
    /// The webhook's signing secret(s), for receivers to verify signatures (Standard Webhooks). Admins only; the only
    /// answer of this API that carries a secret, as receivers cannot verify without it.
    /// </summary>
    [WolverineGet("/webhooks/{name}/signing-secret", OperationId = "GetSigningSecret")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<SigningSecretView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(string name, IQuerySession session, IMessageBus bus, HttpResponse response, CancellationToken cancellation)
    {
        if (await WebhookLookup.ByName(session, name, cancellation) is not { } webhook)
        {
            return Results.Problem(WebhookLookup.NotFound(name));
        }

        var secrets = await bus.InvokeAsync<SigningSecrets>(new ResolveSigningSecrets(webhook.Id, webhook.Signing()), cancellation);
        response.Headers.CacheControl = "no-store";
        return Results.Ok(new SigningSecretView(secrets.Current, secrets.Previous, secrets.PreviousValidUntil));
    }
}

/// <summary>Dispatch's question before signing a delivery: read-only, from the webhook's own signing state.</summary>
public static class ResolveWebhookSigningSecretsHandler
{
    public static async Task<SigningSecrets> Handle(
        ResolveWebhookSigningSecrets resolve, IQuerySession session, IMessageBus bus, CancellationToken cancellation)
    {
        // A webhook deleted meanwhile signs its last deliveries with its first secret, as a new one would.
        var webhook = await session.LoadAsync<Webhook>(resolve.WebhookId, cancellation);
        return await bus.InvokeAsync<SigningSecrets>(
            new ResolveSigningSecrets(resolve.WebhookId, webhook?.Signing() ?? SigningState.First), cancellation);
    }
}

public sealed record RotateSigningSecretCommand(Guid WebhookId, string Name, string Actor) : BuildingBlocks.IActorCommand;

public static class RotateSigningSecretEndpoint
{
    /// <summary>Issues a new signing secret; the previous one keeps signing beside it for the grace period (24 h by default).</summary>
    [WolverinePost("/webhooks/{name}/signing-secret/rotate", OperationId = "RotateSigningSecret")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<SigningSecretView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Post(
        string name, IQuerySession session, IMessageBus bus, ClaimsPrincipal user, HttpResponse response, CancellationToken cancellation)
    {
        var write = await WebhookLookup.Change(session, bus, name, id => new RotateSigningSecretCommand(id, name, user.Actor()), cancellation);
        if (write.Refusal is { } refusal)
        {
            return Results.Problem(refusal);
        }

        // The rotation is one event of the webhook's history; the new secrets are derived from it, nothing else is written.
        var secrets = await bus.InvokeAsync<SigningSecrets>(new ResolveSigningSecrets(write.Webhook!.Id, write.Webhook.Signing()), cancellation);
        response.Headers.CacheControl = "no-store";
        return Results.Ok(new SigningSecretView(secrets.Current, secrets.Previous, secrets.PreviousValidUntil));
    }
}

public static class RotateSigningSecretHandler
{
    /// <summary>The next generation; the current one keeps signing for <paramref name="grace"/>.</summary>
    public static Decision Decide(RotateSigningSecretCommand command, Webhook? webhook, TimeSpan grace, DateTimeOffset now) =>
        webhook is null
            ? Decision.Refuse(WebhookLookup.NotFound(command.Name))
            : Decision.Of(new WebhookSigningSecretRotated(webhook.Id, now + grace, command.Actor, now, webhook.SigningGeneration + 1));

    public static (WebhookWrite, Events, OutgoingMessages) Handle(
        RotateSigningSecretCommand command, [WriteAggregate(Required = false)] Webhook? webhook, IOptions<DefinitionsOptions> options,
        TimeProvider time) =>
        WebhookChanges.Emit(webhook, Decide(command, webhook, options.Value.SigningSecretGracePeriod, time.GetUtcNow()));
}
