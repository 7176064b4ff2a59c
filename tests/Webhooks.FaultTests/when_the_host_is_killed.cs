using Webhooks.FaultTests.Infrastructure;
using Webhooks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webhooks.FaultTests;

/// <summary>
/// kill -9 in the middle of 5,000 async deliveries, then the host started again: every accepted event arrives, and
/// an event that arrives twice comes with the same webhook-id both times.
/// </summary>
public sealed class when_the_host_is_killed(ITestOutputHelper output)
{
    private const int Events = 5000;

    [Fact]
    public async Task every_accepted_delivery_arrives_after_a_restart()
    {
        await using var rig = await FaultRig.Start();
        await using var receiver = await Receiver.Start();
        var (host, port) = await Started(rig, receiver, "crm-sync");

        var gate = new CallGate(receiver);
        var publishing = rig.PublishAll(Events, parallel: 16, (_, _) => host.Address);
        await gate.HoldInFlight(receiver, arrivals: 1000);
        var arrivedBeforeKill = Arrivals.Events(receiver.Requests);
        var killed = host.Address;
        await host.Kill();
        var killedAt = DateTime.UtcNow;
        gate.Release();

        host = await rig.StartHost(port);
        await publishing;
        await Arrivals.WaitUntil(
            () => Arrivals.Events(receiver.Requests).Count >= Events, TimeSpan.FromMinutes(2),
            () => $"{Arrivals.Events(receiver.Requests).Count} of {Events} events arrived");
        var takenOver = gate.TakenOver(rig, killed, killedAt, arrivedBeforeKill);

        var requests = receiver.Requests;
        output.WriteLine($"{arrivedBeforeKill.Count} events had arrived at the kill, {takenOver} accepted before it were called again after it; {requests.Count} requests in all, " +
            $"{requests.Count - Arrivals.Events(requests).Count} of them repeats or probes; publishes sent again: " +
            string.Join(", ", rig.Resent.Select(r => $"{r.Key} x{r.Value}")));
        arrivedBeforeKill.Count.ShouldBeLessThan(Events, "the kill came in the middle of the run");
        takenOver.ShouldBeGreaterThan(0, "deliveries the killed host had accepted were made after the restart");
        Arrivals.ShouldHaveDeliveredEachOnce(receiver.Requests, rig, Events);
    }

    /// <summary>
    /// The same with events published in batches of 100 (issue 14): the kill lands while batches are being prepared,
    /// committed and answered. A batch whose answer was lost is sent again whole to the new host; its keys make the
    /// events the dead host had committed answer as before, and the ones it had not come through once.
    /// </summary>
    [Fact]
    public async Task every_event_of_batches_accepted_arrives_after_a_restart()
    {
        await using var rig = await FaultRig.Start();
        await using var receiver = await Receiver.Start();
        var (host, port) = await Started(rig, receiver, "crm-batch");

        var gate = new CallGate(receiver);
        var publishing = rig.PublishAllInBatches(Events, batchSize: 100, parallel: 4, _ => host.Address);
        await gate.HoldInFlight(receiver, arrivals: 1000);
        var acceptedAtKill = rig.Accepted.Count;
        await host.Kill();
        gate.Release();

        host = await rig.StartHost(port);
        await publishing;
        await Arrivals.WaitUntil(
            () => Arrivals.Events(receiver.Requests).Count >= Events, TimeSpan.FromMinutes(2),
            () => $"{Arrivals.Events(receiver.Requests).Count} of {Events} events arrived");

        output.WriteLine($"{acceptedAtKill} events accepted at the kill; {receiver.Requests.Count} requests in all; sent again: " +
            string.Join(", ", rig.Resent.Select(r => $"{r.Key} x{r.Value}")));
        acceptedAtKill.ShouldBeLessThan(Events, "the kill came while batches were still being published");
        Arrivals.ShouldHaveDeliveredEachOnce(receiver.Requests, rig, Events);
    }

    /// <summary>A host on a port of its own with one webhook to the receiver, matched by Dispatch.</summary>
    private static async Task<(HostProcess Host, int Port)> Started(FaultRig rig, Receiver receiver, string webhook)
    {
        var port = HostProcess.FreePort();
        var host = await rig.StartHost(port);
        await FaultRig.Define(host, webhook, receiver.Url);
        await rig.WaitUntilMatched(host, webhooks: 1);
        return (host, port);
    }
}
