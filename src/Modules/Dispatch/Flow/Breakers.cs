using System.Collections.Concurrent;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Outbound;

namespace Webhooks.Dispatch.Flow;

/// <summary>What a webhook's breaker lets a delivery do now.</summary>
public enum BreakerVerdict
{
    /// <summary>Closed: make the call.</summary>
    Go,

    /// <summary>Open past its cool-down: make the call as the probe (and report it with <c>probe: true</c>).</summary>
    Probe,

    /// <summary>Open: wait (put the delivery back, without an attempt) until the time given.</summary>
    Wait,
}

/// <summary>A change of a webhook's breaker this host asks for, with what it says.</summary>
/// <param name="DisableReason">When the target has been failing for <see cref="BreakerOptions.AutoDisableAfter"/>: why the webhook is disabled.</param>
public sealed record BreakerChange(
    bool Opens, int ConsecutiveFailures, DateTimeOffset FailingSince, DateTimeOffset NextProbeAt, string? LastError, string? DisableReason = null);

/// <summary>
/// Each webhook's circuit breaker (issue 15), for async deliveries. Whether it is open is the webhook's own state (its
/// history has <c>breakerOpened</c> and <c>breakerClosed</c>), which every host follows with the definition; what this
/// class keeps is each host's count of failures in a row, and which probe is in flight here. The first host whose
/// count reaches <see cref="BreakerOptions.FailureThreshold"/> asks Definitions to open the breaker; then every
/// host's deliveries of that webhook wait until the next probe; one call per host is let through as the probe; a
/// success closes it for all, a failure opens it again with the cool-down doubled. Sync calls are never held back:
/// their publisher waits for the target's answer now.
/// </summary>
public sealed class Breakers(DispatchOptions options)
{
    private readonly ConcurrentDictionary<Guid, Streak> streaks = new();

    private BreakerOptions Options => options.Breaker;

    public (BreakerVerdict Verdict, DateTimeOffset Until) Gate(WebhookDefinition webhook, DateTimeOffset now)
    {
        if (webhook.Health is not { IsOpen: true } health)
        {
            return (BreakerVerdict.Go, now);
        }

        var streak = streaks.GetOrAdd(webhook.Id, _ => new Streak());
        DateTimeOffset next;
        lock (streak)
        {
            if (streak.ClosingAsked && now - streak.ClosingAskedAt < Options.CoolDown)
            {
                // This host's probe succeeded: the definition saying the breaker closed is on its way.
                return (BreakerVerdict.Go, now);
            }

            // The later of the definition's probe time and the one this host just asked for (after its probe failed,
            // before the definition says so): no second probe meanwhile.
            var recorded = health.NextProbeAt ?? now;
            next = streak.NextProbeAt is { } asked && asked > recorded ? asked : recorded;
        }

        if (now < next)
        {
            // Spread over a tenth of the cool-down, so the waiting deliveries do not all come back at once.
            return (BreakerVerdict.Wait, next + Spread(Options.CoolDown / 10));
        }

        return Interlocked.CompareExchange(ref streak.Probing, 1, 0) == 0
            ? (BreakerVerdict.Probe, now)
            // A probe is in flight: its answer decides; come back shortly after it.
            : (BreakerVerdict.Wait, now + TimeSpan.FromTicks(Math.Min(Options.CoolDown.Ticks, TimeSpan.FromSeconds(5).Ticks)) + Spread(TimeSpan.FromMilliseconds(500)));
    }

    /// <summary>The probe let through by <see cref="Gate"/> was not made after all (its target was full).</summary>
    public void Abandon(Guid webhookId)
    {
        if (streaks.TryGetValue(webhookId, out var streak))
        {
            Interlocked.Exchange(ref streak.Probing, 0);
        }
    }

    /// <summary>
    /// Counts an async call's outcome; answers the change of the breaker to ask for, if any. A 429 (the target asks to
    /// slow down) and a refusal before anything was sent (the address guard, a key bound elsewhere) are not failures of
    /// the target.
    /// </summary>
    public BreakerChange? Record(WebhookDefinition webhook, CallOutcome outcome, bool probe, DateTimeOffset now)
    {
        if (outcome.Succeeded && !probe && webhook.Health is not { IsOpen: true } && !streaks.ContainsKey(webhook.Id))
        {
            return null; // the common case, on every call of a healthy target: nothing to count, nothing to lock
        }

        var streak = streaks.GetOrAdd(webhook.Id, _ => new Streak());
        try
        {
            var health = webhook.Health ?? WebhookHealth.Closed;
            lock (streak)
            {
                if (health.IsOpen)
                {
                    streak.SawOpen = true;
                }
                else if (streak.SawOpen)
                {
                    // Closed since this host last saw it open (another host's probe, an enabling, a new URL): a fresh count.
                    (streak.Failures, streak.Since, streak.OpenAsked, streak.SawOpen) = (0, null, null, false);
                    (streak.NextProbeAt, streak.ClosingAsked) = (null, false);
                }
            }

            if (outcome.Succeeded)
            {
                lock (streak)
                {
                    (streak.Failures, streak.Since, streak.OpenAsked) = (0, null, null);
                }

                if (!health.IsOpen)
                {
                    return null;
                }

                lock (streak)
                {
                    (streak.ClosingAsked, streak.ClosingAskedAt) = (true, now);
                }

                return new BreakerChange(false, 0, now, now, null);
            }

            if (outcome.StatusCode == 429 || outcome.Permanent)
            {
                return null;
            }

            var error = outcome.Describe(webhook.Name);
            lock (streak)
            {
                streak.Failures++;
                streak.Since ??= now;
                if (health.IsOpen)
                {
                    // Only a probe reopens it: a call that left before it opened says nothing new.
                    if (!probe)
                    {
                        return null;
                    }

                    var failures = health.ConsecutiveFailures + 1;
                    var coolDown = Options.CoolDownAfter(Math.Max(1, failures - Options.FailureThreshold));
                    var since = health.FailingSince ?? streak.Since.Value;
                    var disable = Options.AutoDisableAfter > TimeSpan.Zero && now - since >= Options.AutoDisableAfter
                        ? $"Disabled by the system: its target has been failing since {since.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC " +
                          $"({failures} failed attempts in a row, the last: {error}). Its deliveries wait; enabling it resumes them."
                        : null;
                    streak.NextProbeAt = now + coolDown;
                    return new BreakerChange(true, failures, since, now + coolDown, error, disable);
                }

                // Asked already, and the definition saying so is on its way: once is enough.
                if (streak.Failures < Options.FailureThreshold || streak.OpenAsked > now - Options.CoolDown)
                {
                    return null;
                }

                streak.OpenAsked = now;
                streak.NextProbeAt = now + Options.CoolDown;
                return new BreakerChange(true, streak.Failures, streak.Since.Value, now + Options.CoolDown, error);
            }
        }
        finally
        {
            if (probe)
            {
                Interlocked.Exchange(ref streak.Probing, 0);
            }
        }
    }

    private static TimeSpan Spread(TimeSpan upTo) => TimeSpan.FromTicks((long)(upTo.Ticks * Random.Shared.NextDouble()));

    private sealed class Streak
    {
        public int Failures;
        public DateTimeOffset? Since;
        public DateTimeOffset? OpenAsked;
        public bool SawOpen;
        public DateTimeOffset? NextProbeAt;
        public bool ClosingAsked;
        public DateTimeOffset ClosingAskedAt;
        public int Probing;
    }
}
