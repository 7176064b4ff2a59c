using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Contracts;
using Webhooks.KeySafe.Contracts;
using Wolverine;
using Wolverine.Marten;

namespace Webhooks.Definitions.Hooks;

/// <summary>What a use case decided: the events to append, or why it refuses (and then nothing is written).</summary>
public sealed record Decision(IReadOnlyList<object> Events, ProblemDetails? Refusal = null)
{
    public static Decision Nothing { get; } = new([]);

    public static Decision Of(params object[] events) => new(events);

    public static Decision Refuse(ProblemDetails refusal) => new([], refusal);
}

/// <summary>What a write answers its endpoint: the webhook after it (null once deleted), or the refusal.</summary>
public sealed record WebhookWrite(Webhook? Webhook, ProblemDetails? Refusal)
{
    /// <summary>The HTTP answer: the refusal as a problem, or <paramref name="ok"/> with the version as ETag.</summary>
    public IResult Answer(HttpResponse response, Func<WebhookDefinition, IResult> ok)
    {
        if (Refusal is not null)
        {
            return Results.Problem(Refusal);
        }

        var definition = Webhook!.ToDefinition();
        Versions.Tag(response, definition.Version);
        return ok(definition);
    }
}

/// <summary>
/// The one place where a decision becomes a write: the events go to the webhook's stream, and the messages other
/// modules need are derived from the webhook before and after them (<see cref="Messages"/>), so they commit in the
/// same transaction through the outbox, or not at all.
/// </summary>
public static class WebhookChanges
{
    public static (WebhookWrite, Events, OutgoingMessages) Emit(Webhook? before, Decision decision)
    {
        if (decision.Refusal is { } refusal)
        {
            return (new WebhookWrite(before, refusal), [], []);
        }

        var after = decision.Events.Aggregate(before, Webhook.Next);
        var events = new Events();
        events.AddRange(decision.Events);
        return (new WebhookWrite(after, null), events, Messages(before, after));
    }

    /// <summary>
    /// What other modules hear of a change: Dispatch the whole definition (or its removal); KeySafe which keys the
    /// webhook holds, to authenticate or for its headers (a hold with the new name after a rename, a release of each key
    /// it no longer uses).
    /// </summary>
    public static OutgoingMessages Messages(Webhook? before, Webhook? after)
    {
        var messages = new OutgoingMessages();
        if (after is null)
        {
            if (before is not null)
            {
                var version = before.Version + 1;
                messages.Add(new WebhookRemoved(before.Id, before.Name, version));
                foreach (var held in before.HeldKeys())
                {
                    messages.Add(new ReleaseKey(held, before.Id, version));
                }

                messages.Add(new ForgetStoredSigningSecret(before.Id));
            }

            return messages;
        }

        if (after.Version == before?.Version)
        {
            return messages;
        }

        messages.Add(new WebhookChanged(after.ToDefinition()));
        var previous = before?.HeldKeys() ?? new HashSet<Guid>();
        var now = after.HeldKeys();
        foreach (var released in previous.Where(key => !now.Contains(key)))
        {
            messages.Add(new ReleaseKey(released, after.Id, after.Version));
        }

        foreach (var held in now.Where(key => !previous.Contains(key) || after.Name != before!.Name))
        {
            messages.Add(new HoldKey(held, after.Id, after.Name, after.Version));
        }

        return messages;
    }
}
