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

namespace Webhooks.Definitions.Hooks;

/// <summary><c>Webhooks:Definitions</c> settings.</summary>
public sealed class DefinitionsOptions
{
    /// <summary>How long a rotated signing secret keeps signing beside the new one.</summary>
    public TimeSpan SigningSecretGracePeriod { get; set; } = TimeSpan.FromHours(24);
}

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

        var secrets = await bus.InvokeAsync<SigningSecrets>(new ResolveSigningSecrets(webhook.Id), cancellation);
        response.Headers.CacheControl = "no-store";
        return Results.Ok(new SigningSecretView(secrets.Current, secrets.Previous, secrets.PreviousValidUntil));
    }
}

public static class RotateSigningSecretEndpoint
{
    /// <summary>Issues a new signing secret; the previous one keeps signing beside it for the grace period (24 h by default).</summary>
    [WolverinePost("/webhooks/{name}/signing-secret/rotate", OperationId = "RotateSigningSecret")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<SigningSecretView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<(IResult, OutgoingMessages)> Post(
        string name, IDocumentSession session, IMessageBus bus, IOptions<DefinitionsOptions> options, ClaimsPrincipal user,
        TimeProvider time, HttpResponse response, CancellationToken cancellation)
    {
        var (stream, problem) = await WebhookLookup.ForWriting(session, name, ifMatch: null, cancellation);
        if (stream?.Aggregate is not { } webhook)
        {
            return (Results.Problem(problem!), []);
        }

        var grace = options.Value.SigningSecretGracePeriod;
        var secrets = await bus.InvokeAsync<SigningSecrets>(new RotateSigningSecret(webhook.Id, grace), cancellation);
        var now = time.GetUtcNow();
        var rotated = new WebhookSigningSecretRotated(webhook.Id, now + grace, user.Actor(), now);
        stream.AppendOne(rotated);
        response.Headers.CacheControl = "no-store";
        return (Results.Ok(new SigningSecretView(secrets.Current, secrets.Previous, secrets.PreviousValidUntil)),
            [new WebhookChanged(webhook.Apply(rotated).ToDefinition())]);
    }
}
