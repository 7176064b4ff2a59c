using Webhooks.FaultTests.Infrastructure;
using Webhooks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webhooks.FaultTests;

/// <summary>
/// Two hosts on one database, events published to both (as a load balancer would spread them): both deliver. The
/// receiver then holds its answers, so both hosts have calls in flight, and one host is killed; the other takes over
/// its accepted deliveries once it is declared dead (<c>Webhooks:Dispatch:DeadNodeTimeout</c>): nothing is lost,
/// nothing arrives twice under different ids.
/// </summary>
public sealed class when_one_of_two_hosts_dies(ITestOutputHelper output)
{
    private const int Events = 2000;

    [Fact]
    public async Task the_survivor_delivers_what_the_dead_host_accepted()
    {
        await using var rig = await FaultRig.Start();
        await using var receiver = await Receiver.Start();
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = false;
        var held = 0;
        var called = new System.Collections.Concurrent.ConcurrentQueue<(string Id, DateTime At)>();
        receiver.Respond = async (context, _) =>
        {
            called.Enqueue((context.Request.Headers["webhook-id"].ToString(), DateTime.UtcNow));
            if (Volatile.Read(ref holding))
            {
                Interlocked.Increment(ref held);
                await hold.Task;
            }
        };
        var first = await rig.StartHost();
        var second = await rig.StartHost();
        await FaultRig.Define(first, "crm-sync", receiver.Url);
        await rig.WaitUntilMatched(first, webhooks: 1);
        await rig.WaitUntilMatched(second, webhooks: 1);

        var killed = false;
        Uri[] hosts = [first.Address, second.Address];
        // Even events to the first host, odd ones to the second; once the first is gone, everything to the second.
        var publishing = rig.PublishAll(Events, parallel: 16, (i, attempt) => Volatile.Read(ref killed) ? second.Address : hosts[(i + attempt) % 2]);
        await Arrivals.WaitUntil(() => receiver.Requests.Count >= 600, TimeSpan.FromMinutes(2), () => $"{receiver.Requests.Count} arrived");
        // Each host calls one target at most 16 at a time (MaxConcurrencyPerTarget): more than 16 held calls means
        // both hosts have calls in flight.
        Volatile.Write(ref holding, true);
        await Arrivals.WaitUntil(() => Volatile.Read(ref held) >= 24, TimeSpan.FromMinutes(1), () => $"{held} calls held");
        var beforeKill = Arrivals.Events(receiver.Requests);
        await first.Kill();
        var killedAt = DateTime.UtcNow;
        Volatile.Write(ref killed, true);
        Volatile.Write(ref holding, false);
        hold.SetResult();

        await publishing;
        await Arrivals.WaitUntil(
            () => Arrivals.Events(receiver.Requests).Count >= Events, TimeSpan.FromMinutes(2),
            () => $"{Arrivals.Events(receiver.Requests).Count} of {Events} events arrived");

        // Before the kill, an event accepted by one host could only have been delivered by that host.
        var byFirst = beforeKill.Count(e => rig.Accepted.TryGetValue(e, out var a) && a.AcceptedBy == first.Address);
        var bySecond = beforeKill.Count(e => rig.Accepted.TryGetValue(e, out var a) && a.AcceptedBy == second.Address);
        var calledAfterKill = called.Where(c => c.At > killedAt).Select(c => c.Id).ToHashSet();
        var orphans = rig.Accepted.Count(a => a.Value.AcceptedBy == first.Address && !beforeKill.Contains(a.Key)
            && a.Value.Deliveries.Any(d => calledAfterKill.Contains(d.ToString())));
        output.WriteLine($"before the kill: {byFirst} delivered by the first host, {bySecond} by the second; " +
            $"{orphans} accepted by the first host were called only after it died; {receiver.Requests.Count} requests in all");
        byFirst.ShouldBeGreaterThan(0, "the first host delivered");
        bySecond.ShouldBeGreaterThan(0, "the second host delivered");
        orphans.ShouldBeGreaterThan(0, "deliveries the first host accepted were made by the second after the kill");
        Arrivals.ShouldHaveDeliveredEachOnce(receiver.Requests, rig, Events);
    }
}
