namespace Webhooks.Dispatch.Flow;

/// <summary>Running counts of the work each stage of the pipeline finished: what <see cref="PipelineWatch"/> samples.</summary>
public sealed class PipelineProgress
{
    private long committed;
    private long forwarded;
    private long handled;
    private long delivered;

    /// <summary>Writes committed by the group commit (or failed there: an answer is progress too).</summary>
    public long CommittedWrites => Volatile.Read(ref committed);

    /// <summary>Committed messages handed to their local queue.</summary>
    public long ForwardedMessages => Volatile.Read(ref forwarded);

    /// <summary>Delivery messages a handler finished with, including the ones it put back for later.</summary>
    public long HandledDeliveries => Volatile.Read(ref handled);

    /// <summary>Delivery attempts made and recorded (or ended: a deleted webhook), not put back.</summary>
    public long AttemptedDeliveries => Volatile.Read(ref delivered);

    public void Committed(int writes) => Interlocked.Add(ref committed, writes);

    public void Forwarded(int messages) => Interlocked.Add(ref forwarded, messages);

    /// <summary>A delivery message is done with: attempted (<paramref name="attempted"/>) or put back for later.</summary>
    public void Handled(bool attempted)
    {
        Interlocked.Increment(ref handled);
        if (attempted)
        {
            Interlocked.Increment(ref delivered);
        }
    }
}
