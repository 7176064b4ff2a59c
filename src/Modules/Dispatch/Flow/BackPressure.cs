using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.Dispatch.Batching;
using Webhooks.Dispatch.Delivery;
using System.Runtime.CompilerServices;
using Wolverine.Runtime;
using Wolverine.Transports.Local;

namespace Webhooks.Dispatch.Flow;

/// <summary>
/// How many deliveries this node's delivery queues hold in memory (waiting or being handled): single delivery messages,
/// and the deliveries of the batches this node's group commit handed over and has not finished.
/// </summary>
public sealed class DeliveryQueueDepth(IWolverineRuntime runtime, BatchedDeliveries batched)
{
    private LocalQueue? queue;

    private LocalQueue? batches;

    /// <summary>
    /// Single delivery messages in their queue, the deliveries of this node's batches not yet done, and the batch
    /// messages in their queue (each counted once more: a batch that came from the database, stepped aside or
    /// recovered, counts as one message while it waits in the queue and by its deliveries once it is handled; while it
    /// waits in the database as a scheduled message it is not counted, as retries are not).
    /// </summary>
    public int Count =>
        ((queue ??= runtime.Endpoints.LocalQueueForMessageType(typeof(DeliverWebhook)))?.MessageCount ?? 0)
        + ((batches ??= runtime.Endpoints.LocalQueueForMessageType(typeof(DeliverWebhooks)))?.MessageCount ?? 0)
        + batched.Count;
}

/// <summary>
/// The deliveries of the <see cref="DeliverWebhooks"/> batches this node handed to its queue or is handling and has not
/// finished, by batch: a batch from this node's group commit counts from its hand-over, one that came from the database
/// (its deliveries stepped aside together, or it was recovered) from the moment it is handled.
/// </summary>
public sealed class BatchedDeliveries
{
    private readonly ConditionalWeakTable<DeliverWebhooks, StrongBox<int>> counted = [];
    private int count;

    public int Count => Volatile.Read(ref count);

    /// <summary>A batch handed to the queue: its deliveries count until each is done.</summary>
    public void Add(DeliverWebhooks batch)
    {
        if (counted.TryAdd(batch, new StrongBox<int>(batch.Deliveries.Count)))
        {
            Interlocked.Add(ref count, batch.Deliveries.Count);
        }
    }

    /// <summary>
    /// <paramref name="batch"/> is finished with, or will not be handled here (it was not handed over): whatever of it
    /// still counts stops counting.
    /// </summary>
    public void Settle(DeliverWebhooks batch)
    {
        if (counted.TryGetValue(batch, out var left))
        {
            if (Interlocked.Exchange(ref left.Value, 0) is var rest and > 0)
            {
                Interlocked.Add(ref count, -rest);
            }

            // Forgotten, so the same message handled again (Wolverine retries it) counts again. Its handler has no call
            // left in flight by then: nothing of it comes back to Done.
            counted.Remove(batch);
        }
    }

    /// <summary>One delivery of <paramref name="batch"/> is done with (made, put back for later, or found made already).</summary>
    public void Done(DeliverWebhooks batch)
    {
        // Counted once per delivery, even when Wolverine hands the batch over again after a failure.
        if (counted.TryGetValue(batch, out var left) && Interlocked.Decrement(ref left.Value) >= 0)
        {
            Interlocked.Decrement(ref count);
        }
    }
}

/// <summary>A publish refused for now because the node is behind; the client should send it again after <see cref="RetryAfter"/>.</summary>
public sealed record Overload(ProblemDetails Problem, TimeSpan RetryAfter);

/// <summary>
/// Pushes back on publishers before the node falls behind for good: a publish that would add deliveries while more
/// than <see cref="DispatchOptions.MaxBacklog"/> wait on this node, or any publish while more than
/// <see cref="DispatchOptions.MaxCommitQueue"/> writes wait to be committed, is refused with 503 and a Retry-After
/// worked out from how fast deliveries are going out. Nothing is half-done: the refusal comes before any call.
/// </summary>
public sealed class BackPressure(GroupCommit commits, DeliveryQueueDepth queue, PipelineWatch watch, DispatchOptions options)
{
    public const string OverloadedType = "urn:webhooks:overloaded";

    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>Deliveries accepted on this node and not yet attempted: in the queue, or committed and on their way to it.</summary>
    public int Backlog => queue.Count + commits.Forwarding;

    /// <summary>Why a publish must wait, or null when it may go ahead.</summary>
    public Overload? Refusal(bool addsDeliveries)
    {
        if (commits.Waiting >= options.MaxCommitQueue)
        {
            return Refuse(
                $"{commits.Waiting} writes are waiting for the database (Webhooks:Dispatch:MaxCommitQueue is {options.MaxCommitQueue}).",
                TimeSpan.FromSeconds(1));
        }

        var backlog = Backlog;
        if (addsDeliveries && backlog >= options.MaxBacklog)
        {
            // Long enough for a tenth of the bound to go out at the current pace.
            var rate = Math.Max(watch.DeliveryRate, 1);
            var wait = TimeSpan.FromSeconds(Math.Ceiling((backlog - (options.MaxBacklog * 0.9)) / rate));
            return Refuse(
                $"{backlog} deliveries are waiting on this node (Webhooks:Dispatch:MaxBacklog is {options.MaxBacklog}); " +
                $"they go out at about {rate:0} a second.",
                wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait > MaxRetryAfter ? MaxRetryAfter : wait);
        }

        return null;
    }

    private static Overload Refuse(string why, TimeSpan retryAfter) => new(
        new ProblemDetails
        {
            Type = OverloadedType,
            Title = "Too busy: publish again shortly",
            Status = StatusCodes.Status503ServiceUnavailable,
            Detail = $"This node is behind and accepts no more events for now: {why} Nothing was published. Send the event " +
                $"again after {retryAfter.TotalSeconds:0} s (Retry-After), with the same Idempotency-Key.",
        },
        retryAfter);
}
