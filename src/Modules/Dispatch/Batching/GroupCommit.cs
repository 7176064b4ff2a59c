using System.Threading.Channels;
using JasperFx;
using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using System.Runtime.CompilerServices;
using Webhooks.BuildingBlocks;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Flow;
using Wolverine;
using Wolverine.Marten.Publishing;
using Wolverine.Runtime;

namespace Webhooks.Dispatch.Batching;

/// <summary>
/// Group commit: concurrent writers (publishes, delivery attempts) hand their writes here and await them; a commit
/// loop (<see cref="DispatchOptions.GroupCommitters"/> of them, each on its own connection, with its own queue) takes
/// every write waiting for it at that moment and commits them in one transaction, with their outgoing messages in
/// the same transaction (Wolverine's outbox), then answers each writer. Nothing is answered before it is committed,
/// so durability is what one transaction per write would give; the cost of a commit is shared by the batch. Under
/// light load a batch is one write and adds no wait; under heavy load batches grow while the previous ones commit.
/// A batch's async attempts and outcomes go to one stream the commit starts, its ledger (<see cref="Record"/>). A
/// delivery's attempt is written only after its publish committed, and the writes about one event's deliveries go to
/// one loop (its stream's), so they follow each other on a node and never race on its delivery log. Where two nodes
/// append to one stream at once, one commit fails on the stream's version: its writes are made again (they append,
/// so that is safe).
/// A batch that fails is retried write by write, so one bad write fails alone.
/// <para>
/// A commit loop never waits on the delivery queue. The queue holds at most 10,000 deliveries in memory and, when
/// full, makes whoever hands it more wait until a delivery handler takes one; but delivery handlers wait on commits,
/// so a commit loop that waited for room there would wait forever (issue 11: the host stopped for good at ~10,000
/// waiting deliveries). So a batch's messages (new deliveries, above all) are handed over right after the commit only
/// while the queue is at most half full, which no other producer can fill in the moment that takes (they add at most
/// a few thousand a second); past that, a task of their own hands them over while the loop goes on. The messages are
/// in the database from the commit on, so their hand-over may wait.
/// </para>
/// </summary>
public sealed partial class GroupCommit(
    OutboxedSessionFactory sessions, IWolverineRuntime runtime, DeliveryQueueDepth deliveries, BatchedDeliveries batched, DispatchOptions options,
    PipelineProgress progress, ILogger<GroupCommit> logger)
    : BackgroundService
{
    public const int MaxBatch = 500;

    /// <summary>Up to this many waiting deliveries, a batch's messages are handed over before its writers are answered.</summary>
    public const int InlineForwardLimit = JasperFx.Blocks.Block<Envelope>.DefaultBoundedCapacity / 2;

    /// <summary>
    /// Each commit loop's queue. A write about an existing stream (an event's: a redelivery appends to it, an attempt of
    /// one of its deliveries updates their log) goes to the loop the stream's id picks, so two loops never append to one
    /// stream at once (they would collide on its version) nor update one delivery's log at once. Any other write goes
    /// to the loop with the fewest waiting.
    /// </summary>
    private readonly Channel<Work>[] queues = Enumerable.Range(0, options.GroupCommitters)
        .Select(_ => Channel.CreateUnbounded<Work>()).ToArray();

    /// <summary>
    /// What each batch's writes handed to the commit itself (<see cref="Deliver"/>, <see cref="Record"/>), by the batch's
    /// message context: a batch retried write by write starts again with nothing.
    /// </summary>
    private readonly ConditionalWeakTable<IMessageContext, Gathered> gathered = [];
    private int waiting;
    private int forwarding;

    /// <summary>Writes handed in and not yet committed (or failed).</summary>
    public int Waiting => Volatile.Read(ref waiting);

    /// <summary>Messages committed and not yet handed to their local queue.</summary>
    public int Forwarding => Volatile.Read(ref forwarding);

    /// <summary>Writes <paramref name="write"/> in the next batch; completes once that batch is committed.</summary>
    public Task Commit(Func<IDocumentSession, IMessageContext, ValueTask> write) => Enqueue(queues.MinBy(q => q.Reader.Count)!, write);

    /// <summary>
    /// Writes <paramref name="write"/>, which appends to the existing stream <paramref name="stream"/>, in the next batch
    /// of the commit loop that stream belongs to; completes once that batch is committed.
    /// </summary>
    public Task Commit(Func<IDocumentSession, IMessageContext, ValueTask> write, Guid stream) =>
        Enqueue(queues[(stream.GetHashCode() & int.MaxValue) % queues.Length], write);

    private Task Enqueue(Channel<Work> channel, Func<IDocumentSession, IMessageContext, ValueTask> write)
    {
        var work = new Work(write, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        Interlocked.Increment(ref waiting);
        if (!channel.Writer.TryWrite(work))
        {
            Interlocked.Decrement(ref waiting);
            throw new InvalidOperationException("The host is shutting down; nothing more is accepted.");
        }

        return work.Done.Task;
    }

    /// <summary>
    /// Called by a write: the first attempt of a delivery it records, to be made once the batch is committed. The batch's
    /// first attempts travel as one durable message (<see cref="DeliverWebhooks"/>), committed with the batch.
    /// </summary>
    public void Deliver(IMessageContext batch, DeliverWebhook delivery) => gathered.GetOrCreateValue(batch).FirstAttempts.Add(delivery);

    /// <summary>
    /// Called by a write: an event of a delivery's attempt or outcome, recorded in the batch's ledger, a stream of its own
    /// started by the commit (issue 14): one append for a batch's attempts instead of one per delivery. The events name
    /// their delivery, and the delivery log gathers them by it from whichever stream holds them.
    /// </summary>
    public void Record(IMessageContext batch, object @event) => gathered.GetOrCreateValue(batch).Ledger.Add(@event);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(queues.Select(queue => CommitLoop(queue, stoppingToken)));

    private async Task CommitLoop(Channel<Work> queue, CancellationToken stoppingToken)
    {
        var batch = new List<Work>(MaxBatch);
        var reader = queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                await Gather(reader, batch, stoppingToken);
                if (batch.Count > 0)
                {
                    await CommitBatch(batch);
                    batch.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: commit what was handed in already, refuse the rest.
            queue.Writer.TryComplete();
            while (reader.TryRead(out var work))
            {
                batch.Add(work);
            }

            if (batch.Count > 0)
            {
                await CommitBatch(batch);
            }
        }
    }

    private async Task Gather(ChannelReader<Work> reader, List<Work> batch, CancellationToken stoppingToken)
    {
        while (batch.Count < MaxBatch && reader.TryRead(out var work))
        {
            batch.Add(work);
        }

        if (options.GroupCommitWindow > TimeSpan.Zero && batch.Count < MaxBatch)
        {
            using var window = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            window.CancelAfter(options.GroupCommitWindow);
            try
            {
                while (batch.Count < MaxBatch && await reader.WaitToReadAsync(window.Token))
                {
                    while (batch.Count < MaxBatch && reader.TryRead(out var work))
                    {
                        batch.Add(work);
                    }
                }
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    private async Task CommitBatch(List<Work> batch)
    {
        try
        {
            await Forward(await Write(batch));
            Done(batch, work => work.Done.TrySetResult());
        }
        catch (Exception failure) when (batch.Count > 1 || failure is ConcurrencyException)
        {
            if (failure is not ConcurrencyException)
            {
                LogBatchFailed(batch.Count, failure);
            }

            foreach (var work in batch)
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await Forward(await Write([work]));
                        Done([work], w => w.Done.TrySetResult());
                        break;
                    }
                    catch (ConcurrencyException) when (attempt < 3)
                    {
                        // Another node appended to the same stream at that moment: the write appends, so it is made again.
                    }
                    catch (Exception alone)
                    {
                        Done([work], w => w.Done.TrySetException(alone));
                        break;
                    }
                }
            }
        }
        catch (Exception failure)
        {
            Done(batch, work => work.Done.TrySetException(failure));
        }
    }

    private void Done(IReadOnlyList<Work> works, Action<Work> answer)
    {
        Interlocked.Add(ref waiting, -works.Count);
        progress.Committed(works.Count);
        foreach (var work in works)
        {
            answer(work);
        }
    }

    private async Task<MessageContext> Write(IReadOnlyList<Work> works)
    {
        var context = new MessageContext(runtime);
        await using var session = sessions.OpenSession(context);
        DetachForwarding(session);
        foreach (var work in works)
        {
            await work.Write(session, context);
        }

        if (gathered.TryGetValue(context, out var batch))
        {
            gathered.Remove(context);
            if (batch.Ledger.Count > 0)
            {
                session.Events.StartStream(Guid.CreateVersion7(), batch.Ledger);
            }

            if (batch.FirstAttempts.Count > 0)
            {
                foreach (var part in DeliverWebhooks.Split(batch.FirstAttempts))
                {
                    await context.PublishAsync(part);
                }
            }
        }

        await session.SaveChangesAsync();
        Telemetry.GroupCommitSize.Record(works.Count);
        return context;
    }

    /// <summary>
    /// Wolverine's outbox hands a session's messages to their queues inside SaveChangesAsync, right after the commit
    /// (its FlushOutgoingMessagesOnCommit listener); here that is <see cref="Forward"/>'s job. A Wolverine that renames
    /// the listener stops the host at the first commit rather than bring the stall back silently.
    /// </summary>
    private static void DetachForwarding(IDocumentSession session)
    {
        var flushing = session.Listeners.Where(l => l.GetType().Name == "FlushOutgoingMessagesOnCommit").ToList();
        if (flushing.Count != 1)
        {
            throw new InvalidOperationException(
                $"Expected Wolverine's outbox to add one FlushOutgoingMessagesOnCommit listener to the session, found {flushing.Count}; " +
                "GroupCommit must not hand messages to local queues inside its commit loop (see its remarks).");
        }

        session.Listeners.Remove(flushing[0]);
    }

    /// <summary>
    /// Hands the committed batch's messages to their queues: now, while the delivery queue has room to spare (so a
    /// writer answered next finds its messages queued), else by a task of its own (see the class remarks).
    /// </summary>
    private async Task Forward(MessageContext context)
    {
        var envelopes = context.Outstanding.ToList();
        if (envelopes.Count == 0)
        {
            return;
        }

        // Counted in deliveries (a batch counts its deliveries), as the backlog is.
        var size = envelopes.Sum(e => e.Message is DeliverWebhooks batch ? batch.Deliveries.Count : 1);
        Interlocked.Add(ref forwarding, size);
        if (deliveries.Count + Forwarding <= InlineForwardLimit)
        {
            await HandOver(context, envelopes, size);
        }
        else
        {
            _ = Task.Run(() => HandOver(context, envelopes, size));
        }
    }

    private async Task HandOver(MessageContext context, List<Envelope> envelopes, int size)
    {
        foreach (var envelope in envelopes)
        {
            if (envelope.Message is DeliverWebhooks batch)
            {
                batched.Add(batch);
            }
        }

        try
        {
            await context.FlushOutgoingMessagesAsync();
        }
        catch (Exception failure)
        {
            // Committed, but not in any queue of this node: make them due in the durable inbox, where the
            // scheduled-message poller finds them, so they are delivered all the same. When the host is stopping that
            // is the normal course (the queue is closed), not an error: they are delivered after the restart.
            if (runtime.Cancellation.IsCancellationRequested)
            {
                LogForwardAtShutdown(envelopes.Count);
            }
            else
            {
                LogForwardFailed(envelopes.Count, failure);
                await Release(envelopes);
            }

            // Released to the durable inbox, they come back as other objects: this node's count forgets them.
            foreach (var envelope in envelopes)
            {
                if (envelope.Message is DeliverWebhooks batch)
                {
                    batched.Settle(batch);
                }
            }
        }
        finally
        {
            Interlocked.Add(ref forwarding, -size);
            progress.Forwarded(envelopes.Count);
        }
    }

    /// <summary>Makes the messages due now in the durable inbox, where the scheduled-message poller picks them up.</summary>
    private async Task Release(List<Envelope> envelopes)
    {
        try
        {
            foreach (var envelope in envelopes)
            {
                envelope.ScheduledTime = DateTimeOffset.UtcNow;
                await runtime.Storage.Inbox.ScheduleExecutionAsync(envelope);
            }
        }
        catch (Exception failure)
        {
            LogReleaseFailed(envelopes.Count, failure);
        }
    }

    /// <summary>A batch's first attempts (one <see cref="DeliverWebhooks"/> message) and its ledger (one stream).</summary>
    private sealed class Gathered
    {
        public List<DeliverWebhook> FirstAttempts { get; } = [];

        public List<object> Ledger { get; } = [];
    }

    private sealed record Work(Func<IDocumentSession, IMessageContext, ValueTask> Write, TaskCompletionSource Done);

    [LoggerMessage(LogLevel.Warning, "A group commit of {Count} writes failed; committing them one by one")]
    private partial void LogBatchFailed(int count, Exception exception);

    [LoggerMessage(LogLevel.Error, "{Count} committed messages could not be handed to their local queue; releasing them for recovery")]
    private partial void LogForwardFailed(int count, Exception exception);

    [LoggerMessage(LogLevel.Information, "{Count} committed messages were not handed to their queue before the host stopped; they are delivered after the restart")]
    private partial void LogForwardAtShutdown(int count);

    [LoggerMessage(LogLevel.Error, "{Count} committed messages could not be released for recovery; they are delivered when this node restarts")]
    private partial void LogReleaseFailed(int count, Exception exception);
}
