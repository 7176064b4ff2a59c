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

namespace Webhooks.Definitions.Hooks;

public static class EnableWebhookEndpoint
{
    public static ProblemDetails Validate([FromHeader(Name = "If-Match")] string? ifMatch) => Versions.ValidateIfMatch(ifMatch);

    /// <summary>Enables a webhook. Enabling an enabled webhook changes nothing.</summary>
    [WolverinePost("/webhooks/{name}/enable", OperationId = "EnableWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookDefinition>(StatusCodes.Status200OK)]
    public static Task<(IResult, OutgoingMessages)> Post(
        string name, [FromHeader(Name = "If-Match")] string? ifMatch, IDocumentSession session, ClaimsPrincipal user,
        TimeProvider time, HttpResponse response, CancellationToken cancellation) =>
        WebhookStateChange.Apply(session, name, ifMatch, response,
            webhook => webhook.Enabled ? null : new WebhookEnabled(webhook.Id, user.Actor(), time.GetUtcNow()), cancellation);
}

public static class DisableWebhookEndpoint
{
    public static ProblemDetails Validate([FromHeader(Name = "If-Match")] string? ifMatch, string? reason) => new FieldErrors()
        .Check(Versions.TryParseIfMatch(ifMatch, out _), "If-Match", "If-Match must be one version as the ETag gave it, e.g. \"3\".")
        .Check(reason is null || reason.Length <= 500, "reason", "The reason must be at most 500 characters.")
        .ToProblem();

    /// <summary>Disables a webhook (optionally saying why, <c>?reason=</c>). Disabling a disabled webhook changes nothing.</summary>
    [WolverinePost("/webhooks/{name}/disable", OperationId = "DisableWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookDefinition>(StatusCodes.Status200OK)]
    public static Task<(IResult, OutgoingMessages)> Post(
        string name, string? reason, [FromHeader(Name = "If-Match")] string? ifMatch, IDocumentSession session,
        ClaimsPrincipal user, TimeProvider time, HttpResponse response, CancellationToken cancellation) =>
        WebhookStateChange.Apply(session, name, ifMatch, response,
            webhook => webhook.Enabled ? new WebhookDisabled(webhook.Id, WebhookLookup.Blank(reason), user.Actor(), time.GetUtcNow()) : null,
            cancellation);
}

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
    public static async Task<(IResult, OutgoingMessages)> Delete(
        string name, [FromHeader(Name = "If-Match")] string? ifMatch, IDocumentSession session, ClaimsPrincipal user,
        TimeProvider time, CancellationToken cancellation)
    {
        var (stream, problem) = await WebhookLookup.ForWriting(session, name, ifMatch, cancellation);
        if (stream?.Aggregate is not { } webhook)
        {
            return (Results.Problem(problem!), []);
        }

        stream.AppendOne(new WebhookDeleted(webhook.Id, webhook.Name, user.Actor(), time.GetUtcNow()));
        return (Results.NoContent(), [new WebhookRemoved(webhook.Id, webhook.Name, webhook.Version + 1)]);
    }
}

/// <summary>Dispatch's command after a 410 Gone: the webhook is disabled by "system", with the reason in its history.</summary>
public static class DisableWebhookHandler
{
    public const string SystemActor = "system";

    public static async Task<OutgoingMessages> Handle(DisableWebhook command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var stream = await session.Events.FetchForWriting<Webhook>(command.WebhookId, cancellation);
        if (stream.Aggregate is not { Enabled: true } webhook)
        {
            return [];
        }

        var disabled = new WebhookDisabled(webhook.Id, command.Reason, SystemActor, time.GetUtcNow());
        stream.AppendOne(disabled);
        return [new WebhookChanged(webhook.Apply(disabled).ToDefinition())];
    }
}

internal static class WebhookStateChange
{
    public static async Task<(IResult, OutgoingMessages)> Apply(
        IDocumentSession session, string name, string? ifMatch, HttpResponse response, Func<Webhook, object?> decide,
        CancellationToken cancellation)
    {
        var (stream, problem) = await WebhookLookup.ForWriting(session, name, ifMatch, cancellation);
        if (stream?.Aggregate is not { } webhook)
        {
            return (Results.Problem(problem!), []);
        }

        var next = decide(webhook) switch
        {
            WebhookEnabled enabled => Append(stream, enabled, webhook.Apply(enabled)),
            WebhookDisabled disabled => Append(stream, disabled, webhook.Apply(disabled)),
            _ => null,
        };

        var definition = (next ?? webhook).ToDefinition();
        Versions.Tag(response, definition.Version);
        return next is null ? (Results.Ok(definition), []) : (Results.Ok(definition), [new WebhookChanged(definition)]);
    }

    private static Webhook Append(JasperFx.Events.IEventStream<Webhook> stream, object @event, Webhook next)
    {
        stream.AppendOne(@event);
        return next;
    }
}
