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
        // Open already: only a failed probe (one more failure than recorded) opens it again; another host's late first
        // opening says nothing new.
        webhook is null || (webhook.Health.IsOpen && open.ConsecutiveFailures <= webhook.Health.ConsecutiveFailures)
            ? Decision.Nothing
            : Decision.Of(new WebhookBreakerOpened(
                webhook.Id, open.ConsecutiveFailures, open.FailingSince, open.NextProbeAt, open.LastError, DisableWebhookHandler.SystemActor, now));

    public static Decision Decide(CloseBreaker close, Webhook? webhook, DateTimeOffset now) =>
        webhook is { Health.IsOpen: true }
            ? Decision.Of(new WebhookBreakerClosed(webhook.Id, DisableWebhookHandler.SystemActor, now))
            : Decision.Nothing;

    public static (Events, OutgoingMessages) Handle(OpenBreaker open, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time) =>
        Recorded(webhook, Decide(open, webhook, time.GetUtcNow()));

    public static (Events, OutgoingMessages) Handle(CloseBreaker close, [WriteAggregate(Required = false)] Webhook? webhook, TimeProvider time) =>
        Recorded(webhook, Decide(close, webhook, time.GetUtcNow()));

    /// <summary>The change, and (only when one is recorded) its word to the operators' notifications.</summary>
    private static (Events, OutgoingMessages) Recorded(Webhook? webhook, Decision decision)
    {
        var (_, events, messages) = WebhookChanges.Emit(webhook, decision);
        foreach (var e in decision.Events)
        {
            messages.Add(e switch
            {
                WebhookBreakerOpened o => new WebhookBreakerChanged(
                    webhook!.Id, webhook.Name, webhook.Url, true, o.ConsecutiveFailures, o.FailingSince, o.NextProbeAt, o.LastError, o.At),
                WebhookBreakerClosed c => new WebhookBreakerChanged(webhook!.Id, webhook.Name, webhook.Url, false, 0, null, null, null, c.At),
                _ => throw new InvalidOperationException($"A breaker decision has no event {e.GetType().Name}."),
            });
        }

        return (events, messages);
    }
}
