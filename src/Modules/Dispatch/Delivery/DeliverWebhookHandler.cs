using System.Diagnostics;
using Marten;
using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Batching;
using Webhooks.Dispatch.Flow;
using Webhooks.Dispatch.Outbound;
using Webhooks.Dispatch.Routing;
using Wolverine;
using Wolverine.Runtime;

namespace Webhooks.Dispatch.Delivery;

public static class Attempts
{
    public static DeliveryAttempted Attempted(Guid deliveryId, int number, DateTimeOffset at, CallOutcome outcome) => new(
        deliveryId, number, at, outcome.StatusCode, outcome.DurationMs, outcome.ResponseExcerpt, outcome.Error, outcome.RequestHeaders);
}

/// <summary>
/// Everything an attempt of an async delivery goes through, in the order it does: the catalog, the ordered queue, the
/// breaker, the target's limiter and rate limit, the call, the group commit, the operators' notifications. One
/// instance for the host; both delivery handlers take it.
/// </summary>
public sealed record DeliveryPath(
    DispatchCatalog Catalog, TargetCaller Caller, TargetLimiter Limiter, Breakers Breakers, RateLimits RateLimits, OrderedDeliveries Ordered,
    Operations.OperatorNotifications Notifications, GroupCommit Commits, DispatchOptions Options, TimeProvider Time);

/// <summary>
/// One attempt of an async delivery, at least once: the call, then (in one group commit) the attempt's record and
/// either the outcome or the next attempt's durable message. The webhook's current definition is used (a fixed URL
/// helps a retry); a deleted or disabled webhook ends the delivery as failed.
/// </summary>
public static class DeliverWebhookHandler
{
    public static async Task Handle(
        DeliverWebhook delivery, DeliveryPath path, PipelineProgress progress, IMessageContext context, CancellationToken cancellation)
    {
        var attempted = false;
        try
        {
            attempted = await Deliver(delivery, path, context.ScheduleAsync, cancellation);
        }
        finally
        {
            progress.Handled(attempted);
        }
    }

    /// <summary>
    /// Makes the attempt and records it; false when the delivery was put back for later, without an attempt: its target
    /// was full, or its webhook's breaker is open. <paramref name="decided"/> is called as soon as that is known (before
    /// the call, which may take long).
    /// </summary>
    internal static async Task<bool> Deliver(
        DeliverWebhook delivery, DeliveryPath path, Func<DeliverWebhook, DateTimeOffset, DeliveryOptions?, ValueTask> putBack,
        CancellationToken cancellation, Action? decided = null)
    {
        var (catalog, caller, limiter, breakers, rateLimits, ordered, notifications, commits, options, time) = path;
        var route = catalog.Find(delivery.WebhookId);
        if (route is null)
        {
            decided?.Invoke();
            await commits.Commit((writer, bus) =>
            {
                commits.Record(bus, new DeliveryFailed(delivery.DeliveryId, "The webhook was deleted before the delivery succeeded.", time.GetUtcNow()));
                ordered.Leave(writer, delivery.DeliveryId); // its key's queue, if it was ordered, goes with it
                return ValueTask.CompletedTask;
            }, delivery.EventId);
            return true;
        }

        if (!route.Definition.Enabled)
        {
            // Kept, not failed (issue 15): it waits in the log, without a message of its own, until the webhook is enabled.
            decided?.Invoke();
            var reason = $"Waiting: the webhook is disabled{(route.Definition.DisabledReason is { } why ? $" ({why})" : "")}. " +
                "Enabling it resumes this delivery, or fails it, as the enabling chooses.";
            await commits.Commit((_, bus) =>
            {
                commits.Record(bus, new DeliveryParked(delivery.DeliveryId, delivery.Attempt, reason, time.GetUtcNow()));
                return ValueTask.CompletedTask;
            }, delivery.EventId);
            return true;
        }

        var webhook = route.Definition;
        // Ordered: only the head of its key's queue is made; one behind it parks until the head leaves (issue 15).
        // Whether it is ordered is the message's word (set when it joined its key's queue), not the definition's now: ordering
        // turned off meanwhile, or a host whose catalog lags, must not let it skip its queue or stay in it for good.
        var place = delivery.Ordered ? await ordered.Place(delivery.DeliveryId, cancellation) : null;
        if (delivery.Ordered && place is null)
        {
            // It left its key's queue: it succeeded or failed for good. This is a second copy (the batch that made it and
            // the one it stepped aside into, both recovered after a crash): sending it now could pass the next of its key.
            decided?.Invoke();
            return true;
        }

        if (place is { Head: false, Ahead: { } ahead })
        {
            decided?.Invoke();
            await commits.Commit((writer, bus) =>
            {
                ordered.Park(writer, delivery.DeliveryId);
                commits.Record(bus, new DeliveryQueued(delivery.DeliveryId, ahead, place.Key, time.GetUtcNow()));
                return ValueTask.CompletedTask;
            }, delivery.EventId);
            // The head may have left while this parked (its waker found nothing parked yet): wake whoever heads now.
            await ordered.Wake(webhook.Id, place.Key, cancellation);
            return true;
        }

        var (verdict, until) = breakers.Gate(webhook, time.GetUtcNow());
        if (verdict == BreakerVerdict.Wait)
        {
            // The target is failing: the delivery waits for the breaker's next probe, neither failed nor dropped, and
            // without spending an attempt.
            await putBack(delivery, until, null);
            decided?.Invoke();
            return false;
        }

        var probe = verdict == BreakerVerdict.Probe;
        CallOutcome outcome;
        BreakerChange? breaker;
        try
        {
            var lease = await limiter.TryEnter(new Uri(webhook.Url), cancellation, webhook.MaxConcurrency, webhook.Id);
            if (lease is not null && await rateLimits.TryTake(webhook, cancellation) is { } slot)
            {
                // Over its rate limit (or paused by a 429): it waits for its slot, without spending an attempt (its place
                // among the target's calls taken first, so that no token is spent on a call the target had no room for).
                lease.Dispose();
                await putBack(delivery, slot, null);
                decided?.Invoke();
                return false;
            }

            if (lease is null)
            {
                // The target has its share of calls in flight: come back shortly (the same attempt, as a durable scheduled
                // message) instead of holding a handler here. Normal flow control, so nothing is logged: Wolverine's own
                // ReScheduleCurrentAsync logs every such step aside as an error.
                await putBack(delivery, time.GetUtcNow().AddMilliseconds(Random.Shared.Next(50, 250)), null);
                decided?.Invoke();
                return false;
            }

            decided?.Invoke();
            using (lease)
            using (var attempt = StartAttempt(delivery, webhook))
            {
                outcome = await caller.Post(webhook, delivery.DeliveryId, delivery.Body, options.AsyncTimeout, cancellation);
                Measure(attempt, webhook, outcome);
            }

            breaker = breakers.Record(webhook, outcome, probe, time.GetUtcNow());
            if (outcome is { StatusCode: 429, RetryAfter: { } slowDown } && slowDown > TimeSpan.Zero)
            {
                rateLimits.Slow(webhook.Id, slowDown < options.MaxRetryAfter ? slowDown : options.MaxRetryAfter);
            }
            probe = false; // Record released it
        }
        finally
        {
            if (probe)
            {
                // Not made after all (the target was full, or something threw): the next delivery probes instead.
                breakers.Abandon(webhook.Id);
            }
        }

        var now = time.GetUtcNow();
        var leaves = false;
        string? ended = null;
        await commits.Commit(async (writer, bus) =>
        {
            var retried = false;
            if (breaker is not null)
            {
                // Definitions records it in the webhook's history, and every host follows it with the definition.
                if (breaker.Opens)
                {
                    await bus.PublishAsync(new OpenBreaker(webhook.Id, breaker.ConsecutiveFailures, breaker.FailingSince, breaker.NextProbeAt, breaker.LastError));
                }
                else
                {
                    await bus.PublishAsync(new CloseBreaker(webhook.Id));
                }

                // Operators hear of it from Definitions, once it is recorded (once, whichever host asked).
                if (breaker.DisableReason is { } disabled)
                {
                    await bus.PublishAsync(new DisableWebhook(webhook.Id, disabled));
                }
            }

            // The attempt and its outcome go to the commit's ledger (one stream for the batch's attempts); the write still
            // goes to the commit loop of the event's stream, so a redelivery asked meanwhile never races it on the log.
            var id = delivery.DeliveryId;
            commits.Record(bus, Attempts.Attempted(id, delivery.Attempt, now, outcome));
            if (outcome.Succeeded)
            {
                commits.Record(bus, new DeliverySucceeded(id, now));
            }
            else if (outcome.StatusCode == 410)
            {
                commits.Record(bus, new DeliveryFailed(id, "The target answered 410 Gone: the webhook is disabled.", now));
                var reason = $"The target answered 410 Gone to delivery {id}.";
                await bus.PublishAsync(new DisableWebhook(webhook.Id, reason));
            }
            else if (outcome.Permanent)
            {
                var reason = $"Not retried: {outcome.Describe(webhook.Name)}";
                commits.Record(bus, new DeliveryFailed(id, reason, now));
                await Notify(bus, notifications.Any ? notifications.DeliveryFailed(webhook, delivery, reason, now) : []);
            }
            else if (RetryPolicy.NextDelay(options, delivery.Attempt, outcome.RetryAfter) is { } delay)
            {
                retried = true;
                var at = now + delay;
                commits.Record(bus, new DeliveryRetryScheduled(id, delivery.Attempt + 1, at));
                await bus.ScheduleAsync(delivery with { Attempt = delivery.Attempt + 1 }, at);
            }
            else
            {
                var reason = $"Gave up after {delivery.Attempt} attempts: {outcome.Describe(webhook.Name)}";
                commits.Record(bus, new DeliveryFailed(id, reason, now));
                await Notify(bus, notifications.Any ? notifications.DeliveryFailed(webhook, delivery, reason, now) : []);
            }
            // Done for good (succeeded or failed): an ordered delivery leaves its key's queue, in this commit.
            ended = retried ? null : outcome.Succeeded ? "succeeded" : "failed";
            leaves = !retried && place is not null;
            if (leaves)
            {
                ordered.Leave(writer, delivery.DeliveryId);
            }
        }, delivery.EventId);
        if (ended is not null)
        {
            Telemetry.Deliveries.Add(1, new("webhook", webhook.Name), new("outcome", ended));
        }

        if (leaves && place is not null)
        {
            await ordered.Wake(webhook.Id, place.Key, cancellation);
        }

        return true;
    }

    /// <summary>
    /// The attempt's span (when traces are recorded): a child of the publish that made the delivery, from the trace
    /// context it carries, however much later and on whichever host; linked to the message handling it ran in.
    /// </summary>
    private static Activity? StartAttempt(DeliverWebhook delivery, WebhookDefinition webhook)
    {
        if (!Telemetry.Source.HasListeners())
        {
            return null;
        }

        var handling = Activity.Current;
        var traced = ActivityContext.TryParse(delivery.TraceParent, null, isRemote: true, out var publish);
        var activity = Telemetry.Source.StartActivity(
            "webhooks.deliver", ActivityKind.Internal, traced ? publish : handling?.Context ?? default,
            links: traced && handling is not null ? [new ActivityLink(handling.Context)] : null);
        activity?.SetTag("webhooks.webhook", webhook.Name);
        activity?.SetTag("webhooks.delivery.id", delivery.DeliveryId.ToString());
        activity?.SetTag("webhooks.delivery.attempt", delivery.Attempt);
        return activity;
    }

    /// <summary>The attempt counted by webhook and outcome, timed by outcome, and said on its span.</summary>
    private static void Measure(Activity? attempt, WebhookDefinition webhook, CallOutcome outcome)
    {
        var result = outcome.Succeeded ? "success" : "failure";
        Telemetry.Attempts.Add(1, new("webhook", webhook.Name), new("outcome", result));
        Telemetry.AttemptDuration.Record(outcome.DurationMs / 1000.0, new KeyValuePair<string, object?>("outcome", result));
        if (attempt is not null)
        {
            attempt.SetTag("http.response.status_code", outcome.StatusCode);
            attempt.SetTag("webhooks.outcome", result);
            if (!outcome.Succeeded)
            {
                attempt.SetStatus(ActivityStatusCode.Error, outcome.StatusCode is { } status ? $"HTTP {status}" : outcome.Error);
            }
        }
    }

    /// <summary>Operator notifications go out with the commit that records what they tell of (the outbox), or not at all.</summary>
    private static async ValueTask Notify(IMessageBus bus, IReadOnlyList<Operations.NotifyOperator> notifications)
    {
        foreach (var notification in notifications)
        {
            await bus.PublishAsync(notification);
        }
    }
}

/// <summary>
/// The first attempts of a group commit's deliveries, all at once (each as <see cref="DeliverWebhookHandler"/> makes
/// it, with its own commit of the outcome); the message is done when every one of them is. Handled again (its host
/// died before it was done, or a commit failed and Wolverine retries it), it leaves out the deliveries whose attempt is
/// already recorded. A target that hangs holds this message as it would hold its deliveries' own: the others in it
/// are made and recorded meanwhile. Its deliveries that find their target full step aside together, as one batch
/// message of their own, as soon as every delivery of this one has its place or not (not after the calls).
/// </summary>
public static class DeliverWebhooksHandler
{
    public static async Task Handle(
        DeliverWebhooks batch, DeliveryPath path, PipelineProgress progress, BatchedDeliveries batched, IDocumentStore store,
        IWolverineRuntime runtime, IMessageContext context, CancellationToken cancellation)
    {
        // A batch handed over by this node's group commit is counted already; one that comes back from the database (its
        // deliveries stepped aside together, or it is recovered) counts from here.
        batched.Add(batch);
        try
        {
            await Deliver(batch, path, progress, batched, store, runtime, context, cancellation);
        }
        finally
        {
            // Whatever became of it, this batch no longer counts towards the node's backlog.
            batched.Settle(batch);
        }
    }

    private static async Task Deliver(
        DeliverWebhooks batch, DeliveryPath path, PipelineProgress progress, BatchedDeliveries batched, IDocumentStore store,
        IWolverineRuntime runtime, IMessageContext context, CancellationToken cancellation)
    {
        var time = path.Time;
        var ids = batch.Deliveries.Select(d => d.DeliveryId).ToArray();
        HashSet<Guid> done;
        await using (var session = store.QuerySession())
        {
            // Made already: attempted, or ended without a call (a webhook deleted or disabled meanwhile).
            done = [.. await session.Query<History.DeliveryLog>()
                .Where(d => d.Id.IsOneOf(ids) && (d.AttemptCount > 0 || d.Status != DeliveryStatuses.Pending))
                .Select(d => d.Id).ToListAsync(cancellation)];
        }

        // The deliveries run at once, and a message context is not safe to share between them: only this method uses it.
        // Those whose target was full step aside together, as one durable message due when the last of them asked (a
        // batch of 1,000 to one target finds it full for most of them: one envelope instead of 1,000), scheduled as
        // soon as every delivery has its place or not: a slow call does not hold them back. One that failed (its
        // record could not be written) goes back alone once all are done, as a delivery of its own under Wolverine's
        // error policies, and never holds the others back.
        var full = new List<(DeliverWebhook Delivery, DateTimeOffset At)>();
        var failed = new List<DeliverWebhook>();
        var decisions = new List<Task>(batch.Deliveries.Count);
        var deliveries = new List<Task>(batch.Deliveries.Count);
        foreach (var delivery in batch.Deliveries)
        {
            var decided = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            decisions.Add(decided.Task);
            deliveries.Add(Make(delivery, decided));
        }

        await Task.WhenAll(decisions);
        var groups = StepAside(full).ToList();
        var scheduled = 0;
        if (groups.Count > 0)
        {
            // Durable at once, not when this message is done (what is sent through its own context waits for that): a
            // slow call of this batch must not hold back the deliveries that stepped aside. Always as a batch, even of
            // one, so that whichever of it and this message (handled again if it fails or its node dies before it is
            // done) comes second leaves out what the other made: at least once, under one id, as after any crash.
            try
            {
                var outside = new MessageContext(runtime);
                foreach (var (group, at) in groups)
                {
                    await outside.ScheduleAsync(group, at);
                    scheduled++;
                }
            }
            catch (Exception failure) when (failure is not OperationCanceledException)
            {
                // The database refused one: it and those after it are tried again through this message's own context
                // once its calls are done (a handler never leaves calls in flight behind it).
            }
        }

        await Task.WhenAll(deliveries);
        foreach (var (group, at) in groups.Skip(scheduled))
        {
            await context.ScheduleAsync(group, at);
        }

        foreach (var delivery in failed)
        {
            await context.ScheduleAsync(delivery, time.GetUtcNow().AddSeconds(1));
        }

        // Together by when they are due, to the second: those whose target was full come back in a moment, those waiting
        // for a breaker's probe when it is due; neither waits for the other.
        static IEnumerable<(DeliverWebhooks Batch, DateTimeOffset At)> StepAside(List<(DeliverWebhook Delivery, DateTimeOffset At)> full) =>
            full.GroupBy(p => p.At.ToUnixTimeSeconds())
                .SelectMany(g => DeliverWebhooks.Split(g.Select(p => p.Delivery)).Select(part => (part, g.Max(p => p.At))));

        async Task Make(DeliverWebhook delivery, TaskCompletionSource decided)
        {
            var attempted = false;
            try
            {
                if (!done.Contains(delivery.DeliveryId))
                {
                    attempted = await DeliverWebhookHandler.Deliver(delivery, path, (later, at, _) =>
                    {
                        lock (full)
                        {
                            full.Add((later, at));
                        }

                        return ValueTask.CompletedTask;
                    }, cancellation, () => decided.TrySetResult());
                }
            }
            catch (Exception failure) when (failure is not OperationCanceledException)
            {
                lock (failed)
                {
                    failed.Add(delivery);
                }
            }
            finally
            {
                decided.TrySetResult();
                progress.Handled(attempted);
                batched.Done(batch);
            }
        }
    }
}

public static class RetryPolicy
{
    /// <summary>
    /// The wait before the attempt after <paramref name="attempt"/>, or null when the schedule is spent. A target's
    /// Retry-After is honoured up to <see cref="DispatchOptions.MaxRetryAfter"/>; otherwise the schedule's delay, spread
    /// by the jitter.
    /// </summary>
    public static TimeSpan? NextDelay(DispatchOptions options, int attempt, TimeSpan? retryAfter)
    {
        if (attempt > options.Schedule.Length)
        {
            return null;
        }

        if (retryAfter is { } asked && asked > TimeSpan.Zero)
        {
            return asked < options.MaxRetryAfter ? asked : options.MaxRetryAfter;
        }

        var delay = options.Schedule[attempt - 1];
        var spread = delay.TotalMilliseconds * options.RetryJitter * ((Random.Shared.NextDouble() * 2) - 1);
        return delay + TimeSpan.FromMilliseconds(spread);
    }
}
