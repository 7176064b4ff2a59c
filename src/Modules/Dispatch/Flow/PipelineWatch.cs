using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Webhooks.Dispatch.Batching;

namespace Webhooks.Dispatch.Flow;

/// <summary>
/// Watches each stage of the pipeline once a second: a stage with work waiting whose finished count has not moved for
/// <see cref="DispatchOptions.Stall"/> is stalled. Readiness then fails (an orchestrator restarts the node or
/// routes around it) and the stall is logged once, as the error it is; a stage that moves again clears it.
/// </summary>
public sealed partial class PipelineWatch(
    GroupCommit commits, DeliveryQueueDepth queue, PipelineProgress progress, DispatchOptions options, TimeProvider time,
    ILogger<PipelineWatch> logger) : BackgroundService
{
    public static readonly TimeSpan SamplingInterval = TimeSpan.FromSeconds(1);

    // Progress is what moves the work on: an attempt made (a delivery stepping aside for its target's limit is not), a
    // commit answered; for the hand-over to a full queue, any hand-over finished or any attempt that made room.
    private readonly Stage[] stages =
    [
        new("group commit", "writes waiting to be committed", () => commits.Waiting, () => progress.CommittedWrites),
        new("delivery queue", "deliveries waiting in this node's queue", () => queue.Count, () => progress.AttemptedDeliveries),
        new("hand-over", "committed deliveries waiting to enter the queue", () => commits.Forwarding,
            () => progress.ForwardedMessages + progress.AttemptedDeliveries),
    ];

    private long lastAttempted;
    private double attemptsPerSecond;

    /// <summary>Deliveries attempted per second, smoothed over the last few seconds.</summary>
    public double DeliveryRate => Volatile.Read(ref attemptsPerSecond);

    /// <summary>The stages stalled at the last sample, each with what waits and since when nothing moved.</summary>
    public IReadOnlyList<Stall> Stalls { get; private set; } = [];

    /// <summary>Takes one sample (the loop calls this every second; tests call it with a fake clock).</summary>
    public void Sample()
    {
        var now = time.GetUtcNow();
        var stalls = new List<Stall>();
        foreach (var stage in stages)
        {
            if (stage.Observe(now, options.Stall) is { } stall)
            {
                stalls.Add(stall);
                if (!stage.Reported)
                {
                    stage.Reported = true;
                    LogStalled(stall.Stage, stall.Waiting, stall.Description, (now - stall.QuietSince).TotalSeconds);
                }
            }
            else if (stage.Reported)
            {
                stage.Reported = false;
                LogMovesAgain(stage.Name);
            }
        }

        Stalls = stalls;
        var attempted = progress.AttemptedDeliveries;
        var rate = (attempted - lastAttempted) / SamplingInterval.TotalSeconds;
        lastAttempted = attempted;
        Volatile.Write(ref attemptsPerSecond, (attemptsPerSecond * 0.7) + (rate * 0.3));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SamplingInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Sample();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(LogLevel.Error, "The {Stage} made no progress for {Seconds:0} s while {Waiting} {Description}; readiness fails until it moves")]
    private partial void LogStalled(string stage, int waiting, string description, double seconds);

    [LoggerMessage(LogLevel.Information, "The {Stage} moves again")]
    private partial void LogMovesAgain(string stage);

    public sealed record Stall(string Stage, string Description, int Waiting, DateTimeOffset QuietSince);

    private sealed class Stage(string name, string description, Func<int> waiting, Func<long> finished)
    {
        private long lastFinished = -1;
        private DateTimeOffset quietSince;

        public string Name => name;

        public bool Reported { get; set; }

        /// <summary>The stall, when work waits and nothing finished for <paramref name="timeout"/>.</summary>
        public Stall? Observe(DateTimeOffset now, TimeSpan timeout)
        {
            var count = waiting();
            var done = finished();
            if (count == 0 || done != lastFinished)
            {
                // Idle, or moving: the quiet time starts afresh.
                lastFinished = done;
                quietSince = now;
                return null;
            }

            return now - quietSince >= timeout ? new Stall(name, description, count, quietSince) : null;
        }
    }
}

/// <summary>Readiness: unhealthy while a stage of the pipeline is stalled, saying which and what waits.</summary>
public sealed class PipelineHealthCheck(PipelineWatch watch) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var stalls = watch.Stalls;
        return Task.FromResult(stalls.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy(string.Join("; ", stalls.Select(s =>
                $"the {s.Stage} made no progress since {s.QuietSince:u} while {s.Waiting} {s.Description}"))));
    }
}
