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

public sealed record DisableWebhookCommand(Guid WebhookId, string Name, string? IfMatch, string? Reason, string Actor) : BuildingBlocks.IActorCommand;

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
    public static async Task<IResult> Post(
        string name, string? reason, [FromHeader(Name = "If-Match")] string? ifMatch, IQuerySession session, IMessageBus bus,
        ClaimsPrincipal user, HttpResponse response, CancellationToken cancellation) =>
        (await WebhookLookup.Change(
            session, bus, name, id => new DisableWebhookCommand(id, name, ifMatch, WebhookLookup.Blank(reason), user.Actor()), cancellation))
            .Answer(response, Results.Ok);
}

public static class DisableWebhookHandler
{
    /// <summary>Who disables a webhook on its own: after a 410 Gone, or when its key was deleted under it.</summary>
    public const string SystemActor = "system";

    public static Decision Decide(DisableWebhookCommand command, Webhook? webhook, DateTimeOffset now) =>
        WebhookLookup.Refusal(webhook, command.Name, command.IfMatch) is { } refusal ? Decision.Refuse(refusal)
        : !webhook!.Enabled ? Decision.Nothing
        : Decision.Of(new WebhookDisabled(webhook.Id, command.Reason, command.Actor, now));

    public static (WebhookWrite, Events, OutgoingMessages) Handle(
        DisableWebhookCommand command, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time) =>
        WebhookChanges.Emit(webhook, Decide(command, webhook, time.GetUtcNow()));

    /// <summary>Dispatch's command after a 410 Gone: disabled by <see cref="SystemActor"/>, with the reason in its history.</summary>
    public static (Events, OutgoingMessages) Handle(DisableWebhook command, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time) =>
        BySystem(webhook, webhook is { Enabled: true }
            ? Decision.Of(new WebhookDisabled(webhook.Id, command.Reason, SystemActor, time.GetUtcNow()))
            : Decision.Nothing);

    /// <summary>A disabling by the system, and (only when it is recorded) its word to the operators' notifications.</summary>
    internal static (Events, OutgoingMessages) BySystem(Webhook? webhook, Decision decision)
    {
        var (_, events, messages) = WebhookChanges.Emit(webhook, decision);
        foreach (var disabled in decision.Events.OfType<WebhookDisabled>())
        {
            messages.Add(new WebhookDisabledBySystem(webhook!.Id, webhook.Name, webhook.Url, disabled.Reason ?? "", disabled.At));
        }

        return (events, messages);
    }
}

/// <summary>
/// KeySafe refused a hold because the key was deleted before the webhook's change that chose it was saved: the
/// webhook, if it still uses that key, is disabled by <see cref="DisableWebhookHandler.SystemActor"/> with the reason.
/// </summary>
public static class KeyHoldRefusedHandler
{
    public static Decision Decide(KeySafe.Contracts.KeyHoldRefused refused, Webhook? webhook, DateTimeOffset now) =>
        webhook is { Enabled: true } && webhook.HeldKeys().Contains(refused.KeyId)
            ? Decision.Of(new WebhookDisabled(webhook.Id, refused.Reason, DisableWebhookHandler.SystemActor, now))
            : Decision.Nothing;

    public static (Events, OutgoingMessages) Handle(
        KeySafe.Contracts.KeyHoldRefused refused,
        [WriteAggregate(nameof(KeySafe.Contracts.KeyHoldRefused.HolderId), Required = false)] Webhook? webhook, TimeProvider time)
    {
        return DisableWebhookHandler.BySystem(webhook, Decide(refused, webhook, time.GetUtcNow()));
    }
}
