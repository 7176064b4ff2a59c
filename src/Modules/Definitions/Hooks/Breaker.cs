using Webhooks.Definitions.Contracts;
using Wolverine;
using Wolverine.Marten;

namespace Webhooks.Definitions.Hooks;

/// <summary>
/// Dispatch's word on a webhook's target (issue 15): its circuit breaker opens (again, after a failed probe) or closes,
/// recorded in the webhook's history by <see cref="DisableWebhookHandler.SystemActor"/>, and every node learns it with
/// the definition (<see cref="WebhookChanged"/>). A word that changes nothing (the breaker is already so, the webhook
/// is gone) writes nothing: several nodes may say the same.
/// </summary>
public static class BreakerHandler
{
    public static Decision Decide(OpenBreaker open, Webhook? webhook, DateTimeOffset now) =>
        webhook is null || (webhook.Health.IsOpen && webhook.Health.NextProbeAt >= open.NextProbeAt)
            ? Decision.Nothing
            : Decision.Of(new WebhookBreakerOpened(
                webhook.Id, open.ConsecutiveFailures, open.FailingSince, open.NextProbeAt, open.LastError, DisableWebhookHandler.SystemActor, now));

    public static Decision Decide(CloseBreaker close, Webhook? webhook, DateTimeOffset now) =>
        webhook is { Health.IsOpen: true }
            ? Decision.Of(new WebhookBreakerClosed(webhook.Id, DisableWebhookHandler.SystemActor, now))
            : Decision.Nothing;

    public static (Events, OutgoingMessages) Handle(OpenBreaker open, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time)
    {
        var (_, events, messages) = WebhookChanges.Emit(webhook, Decide(open, webhook, time.GetUtcNow()));
        return (events, messages);
    }

    public static (Events, OutgoingMessages) Handle(CloseBreaker close, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time)
    {
        var (_, events, messages) = WebhookChanges.Emit(webhook, Decide(close, webhook, time.GetUtcNow()));
        return (events, messages);
    }
}
