using Webhooks.Definitions.Contracts;
using Webhooks.FaultTests.Infrastructure;
using Webhooks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webhooks.FaultTests;

/// <summary>
/// Ordered delivery (issue 15) through a kill -9: 2,000 events on 40 keys (the record's <c>group</c>), each key's
/// events published one after the other, the host killed with calls held at the receiver and started again. Every
/// event arrives, and each key's events arrive in the order they were published, repeats included: the heads the dead
/// host had claimed or was calling are made again (the same webhook-id) before the next of their key, none is stranded.
/// </summary>
public sealed class when_an_ordered_host_is_killed(ITestOutputHelper output)
{
    private const int Events = 2000;

    [Fact]
    public async Task every_key_keeps_its_order_and_nothing_is_stranded()
    {
        await using var rig = await FaultRig.Start();
        await using var receiver = await Receiver.Start();
        var port = HostProcess.FreePort();
        var host = await rig.StartHost(port);
        var admin = FaultRig.Admin(host);
        await admin.RegisterEventSource(FaultRig.Application, FaultRig.EventSource, new RegisterEventSource("Contact", null, "update"));
        await admin.DefineWebhook(new DefineWebhook(
            "crm-ordered", null, FaultRig.Application, FaultRig.EventSource, true, null, receiver.Url.ToString(), PayloadFormats.Json, PostModes.Async, null)
            with { Ordering = new Ordering(true, "group") });
        await rig.WaitUntilMatched(host, webhooks: 1);

        var gate = new CallGate(receiver);
        var publishing = rig.PublishAllByGroup(Events, (_, _) => host.Address);
        await gate.HoldInFlight(receiver, arrivals: 400);
        var arrivedBeforeKill = Arrivals.Events(receiver.Requests).Count;
        await host.Kill();
        gate.Release();

        host = await rig.StartHost(port);
        await publishing;
        await Arrivals.WaitUntil(
            () => Arrivals.Events(receiver.Requests).Count >= Events, TimeSpan.FromMinutes(2),
            () => $"{Arrivals.Events(receiver.Requests).Count} of {Events} events arrived");

        var requests = receiver.Requests;
        output.WriteLine($"{arrivedBeforeKill} events had arrived at the kill; {requests.Count} requests in all; publishes sent again: " +
            string.Join(", ", rig.Resent.Select(r => $"{r.Key} x{r.Value}")));
        arrivedBeforeKill.ShouldBeLessThan(Events, "the kill came in the middle of the run");
        Arrivals.ShouldHaveDeliveredEachOnce(requests, rig, Events);

        // Each key's events arrive in publish order (event n of a key was published after n - 40 was accepted), repeats
        // included: every arrival of event n, the first and any repeat the dead host's calls caused, comes before the
        // first arrival of n + 40. A repeat after the next of its key would undo, at a receiver applying each call, what
        // the next one did.
        var positions = requests.Select((request, index) => (Event: Arrivals.EventOf(request), Index: index))
            .Where(a => FaultRig.Group(a.Event) is not null)
            .GroupBy(a => int.Parse(a.Event, System.Globalization.CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => (First: g.Min(a => a.Index), Last: g.Max(a => a.Index), Count: g.Count()));
        output.WriteLine($"{positions.Values.Count(p => p.Count > 1)} events arrived more than once");
        var outOfOrder = positions.Keys
            .Where(n => positions.TryGetValue(n + FaultRig.Groups, out var next) && positions[n].Last > next.First)
            .Select(n => positions[n].First > positions[n + FaultRig.Groups].First
                ? $"event {n} first arrived after event {n + FaultRig.Groups} of its key"
                : $"event {n} arrived again after event {n + FaultRig.Groups} of its key")
            .ToList();
        outOfOrder.ShouldBeEmpty("a key's events arrived out of publish order");
    }
}
