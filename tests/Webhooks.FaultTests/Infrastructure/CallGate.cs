using System.Collections.Concurrent;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.FaultTests.Infrastructure;

/// <summary>
/// Sits in a receiver: notes when each call arrives (by webhook-id), and can hold the answers, so a host has calls in
/// flight, deliveries it accepted but has not finished, at the moment it is killed.
/// </summary>
public sealed class CallGate
{
    private readonly ConcurrentQueue<(string Id, DateTime At)> arrivals = new();
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int holding;
    private int held;

    public CallGate(Receiver receiver) => receiver.Respond = async (context, _) =>
    {
        arrivals.Enqueue((context.Request.Headers["webhook-id"].ToString(), DateTime.UtcNow));
        if (Volatile.Read(ref holding) == 1)
        {
            Interlocked.Increment(ref held);
            await released.Task;
        }
    };

    public int Held => Volatile.Read(ref held);

    /// <summary>
    /// Waits for <paramref name="arrivals"/> calls at <paramref name="receiver"/>, then holds the answers until 8 calls
    /// wait: a host killed now dies with calls in flight, deliveries it accepted and never finished.
    /// </summary>
    public async Task HoldInFlight(Receiver receiver, int arrivals)
    {
        await Arrivals.WaitUntil(() => receiver.Requests.Count >= arrivals, TimeSpan.FromMinutes(2), () => $"{receiver.Requests.Count} arrived");
        Hold();
        await Arrivals.WaitUntil(() => Held >= 8, TimeSpan.FromMinutes(1), () => $"{Held} calls held");
    }

    public void Hold() => Volatile.Write(ref holding, 1);

    public void Release()
    {
        Volatile.Write(ref holding, 0);
        released.TrySetResult();
    }

    /// <summary>The webhook-ids of calls that arrived after <paramref name="moment"/>.</summary>
    public HashSet<string> CalledAfter(DateTime moment) => arrivals.Where(c => c.At > moment).Select(c => c.Id).ToHashSet();

    /// <summary>
    /// How many events <paramref name="host"/> accepted before <paramref name="moment"/> that had not arrived by then
    /// (<paramref name="arrivedBefore"/>) and were called after it: deliveries another host (or the host started
    /// again) took over.
    /// </summary>
    public int TakenOver(FaultRig rig, Uri host, DateTime moment, IReadOnlySet<string> arrivedBefore)
    {
        var calledAfter = CalledAfter(moment);
        return rig.Accepted.Count(a => a.Value.AcceptedBy == host && a.Value.At < moment && !arrivedBefore.Contains(a.Key)
            && a.Value.Deliveries.Any(d => calledAfter.Contains(d.ToString())));
    }
}
