using Webhooks.FaultTests.Infrastructure;
using Webhooks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webhooks.FaultTests;

/// <summary>
/// Publishing outruns a slow receiver until tens of thousands of deliveries wait, far more than the delivery queue
/// holds in memory (10,000). The host must keep accepting and delivering: before issue 11's fix, the commit that
/// handed new deliveries to the full queue waited for room that only the delivery handlers could make, while every
/// handler waited for that commit, and the host stopped for good at ~10,000 waiting deliveries.
/// </summary>
public sealed class when_a_backlog_builds_behind_a_slow_receiver(ITestOutputHelper output)
{
    private const int Events = 20_000;

    [Fact]
    public async Task publishing_and_delivery_never_stall()
    {
        await using var rig = await FaultRig.Start();
        // Every handler may call the target at once, so nothing steps aside to the database: the queue drains only as
        // fast as the receiver answers, and every handler finishing a call waits on a commit.
        rig.Settings["Webhooks__Dispatch__MaxConcurrencyPerTarget"] = "64";
        // Back pressure is not what this test is about: the bound is above the whole run.
        rig.Settings["Webhooks__Dispatch__MaxBacklog"] = "100000";
        var slow = 1;
        await using var receiver = await Receiver.Start();
        receiver.Respond = async (_, _) =>
        {
            if (Volatile.Read(ref slow) == 1)
            {
                await Task.Delay(250);
            }
        };
        var host = await rig.StartHost();
        await FaultRig.Define(host, "crm-slow", receiver.Url);
        await rig.WaitUntilMatched(host, webhooks: 1);

        var started = DateTime.UtcNow;
        await rig.PublishAll(Events, parallel: 16, (_, _) => host.Address, giveUpAfter: TimeSpan.FromMinutes(2));
        var waiting = Events - Arrivals.Events(receiver.Requests).Count;
        output.WriteLine($"{Events} events accepted in {(DateTime.UtcNow - started).TotalSeconds:0.0} s; {waiting} deliveries still waiting");
        waiting.ShouldBeGreaterThan(10_000, "the backlog outgrew the in-memory delivery queue");

        Volatile.Write(ref slow, 0);
        await Arrivals.WaitUntil(
            () => Arrivals.Events(receiver.Requests).Count >= Events, TimeSpan.FromMinutes(2),
            () => $"{Arrivals.Events(receiver.Requests).Count} of {Events} events arrived");
        output.WriteLine($"all delivered {(DateTime.UtcNow - started).TotalSeconds:0.0} s after the first publish; resent: " +
            string.Join(", ", rig.Resent.Select(r => $"{r.Key} x{r.Value}")));
        Arrivals.ShouldHaveDeliveredEachOnce(receiver.Requests, rig, Events);
    }
}
