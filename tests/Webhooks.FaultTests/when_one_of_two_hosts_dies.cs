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
        var gate = new CallGate(receiver);
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
        gate.Hold();
        await Arrivals.WaitUntil(() => gate.Held >= 24, TimeSpan.FromMinutes(1), () => $"{gate.Held} calls held");
        var beforeKill = Arrivals.Events(receiver.Requests);
        await first.Kill();
        var killedAt = DateTime.UtcNow;
        Volatile.Write(ref killed, true);
        gate.Release();

        await publishing;
        await Arrivals.WaitUntil(
            () => Arrivals.Events(receiver.Requests).Count >= Events, TimeSpan.FromMinutes(2),
            () => $"{Arrivals.Events(receiver.Requests).Count} of {Events} events arrived");

        // Before the kill, an event accepted by one host could only have been delivered by that host.
        var byFirst = beforeKill.Count(e => rig.Accepted.TryGetValue(e, out var a) && a.AcceptedBy == first.Address);
        var bySecond = beforeKill.Count(e => rig.Accepted.TryGetValue(e, out var a) && a.AcceptedBy == second.Address);
        var orphans = gate.TakenOver(rig, first.Address, killedAt, beforeKill);
        output.WriteLine($"before the kill: {byFirst} delivered by the first host, {bySecond} by the second; " +
            $"{orphans} accepted by the first host and not arrived were called after it died; {receiver.Requests.Count} requests in all");
        byFirst.ShouldBeGreaterThan(0, "the first host delivered");
        bySecond.ShouldBeGreaterThan(0, "the second host delivered");
        orphans.ShouldBeGreaterThan(0, "deliveries the first host accepted were made by the second after the kill");
        Arrivals.ShouldHaveDeliveredEachOnce(receiver.Requests, rig, Events);
    }
}
