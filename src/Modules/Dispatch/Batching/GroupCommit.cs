using System.Threading.Channels;
using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Marten.Publishing;
using Wolverine.Runtime;

namespace Webhooks.Dispatch.Batching;

/// <summary>
/// Group commit: concurrent writers (publishes, delivery attempts) hand their writes here and await them; a commit
/// loop (<see cref="DispatchOptions.GroupCommitters"/> of them, each on its own connection) takes every write waiting
/// at that moment and commits them in one transaction, with their outgoing messages in
/// the same transaction (Wolverine's outbox), then answers each writer. Nothing is answered before it is committed,
/// so durability is what one transaction per write would give; the cost of a commit is shared by the batch. Under
/// light load a batch is one write and adds no wait; under heavy load batches grow while the previous ones commit.
/// A delivery's attempt is written only after its publish committed, so one stream's writes follow each other; where
/// two could meet (a redelivery beside a retry), PostgreSQL's row lock on the stream orders them.
/// A batch that fails is retried write by write, so one bad write fails alone.
/// </summary>
public sealed partial class GroupCommit(
    OutboxedSessionFactory sessions, IWolverineRuntime runtime, DispatchOptions options, ILogger<GroupCommit> logger)
    : BackgroundService
{
    public const int MaxBatch = 500;

    private readonly Channel<Work> queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = options.GroupCommitters == 1 });

    /// <summary>Writes <paramref name="write"/> in the next batch; completes once that batch is committed.</summary>
    public Task Commit(Func<IDocumentSession, IMessageContext, ValueTask> write)
    {
        var work = new Work(write, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!queue.Writer.TryWrite(work))
        {
            throw new InvalidOperationException("The host is shutting down; nothing more is accepted.");
        }

        return work.Done.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.GroupCommitters).Select(_ => CommitLoop(stoppingToken)));

    private async Task CommitLoop(CancellationToken stoppingToken)
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
            await Write(batch);
            foreach (var work in batch)
            {
                work.Done.TrySetResult();
            }
        }
        catch (Exception failure) when (batch.Count > 1)
        {
            LogBatchFailed(batch.Count, failure);
            foreach (var work in batch)
            {
                try
                {
                    await Write([work]);
                    work.Done.TrySetResult();
                }
                catch (Exception alone)
                {
                    work.Done.TrySetException(alone);
                }
            }
        }
        catch (Exception failure)
        {
            batch[0].Done.TrySetException(failure);
        }
    }

    private async Task Write(IReadOnlyList<Work> works)
    {
        var context = new MessageContext(runtime);
        await using var session = sessions.OpenSession(context);
        foreach (var work in works)
        {
            await work.Write(session, context);
        }

        await session.SaveChangesAsync();
        await context.FlushOutgoingMessagesAsync();
    }

    private sealed record Work(Func<IDocumentSession, IMessageContext, ValueTask> Write, TaskCompletionSource Done);

    [LoggerMessage(LogLevel.Warning, "A group commit of {Count} writes failed; committing them one by one")]
    private partial void LogBatchFailed(int count, Exception exception);
}
