using System.Collections.Concurrent;
using System.Net;
using Webhooks.FaultTests.Infrastructure;
using Webhooks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webhooks.FaultTests;

/// <summary>
/// Publishing outruns a receiver until tens of thousands of deliveries wait, far more than the delivery queue holds
/// in memory (10,000). The host must keep accepting and delivering: before issue 11's fix, the commit that handed new
/// deliveries to the full queue waited for room that only the delivery handlers could make, while every handler
/// waited for that commit, and the host stopped for good at ~10,000 waiting deliveries (~15,000 publishes here).
/// </summary>
public sealed class when_a_backlog_builds_behind_a_slow_receiver(ITestOutputHelper output)
{
    private const int Events = 20_000;

    [Fact]
    public async Task publishing_and_delivery_never_stall()
    {
        await using var rig = await FaultRig.Start();
        // Every handler may call the target at once, so nothing steps aside to the database: the queue drains only as
        // the receiver answers, and every handler finishing a call waits on a commit. The receiver holds every call
        // until all events are published (well within the call timeout), so the backlog is all of them.
        rig.Settings["Webhooks__Dispatch__MaxConcurrencyPerTarget"] = "64";
        rig.Settings["Webhooks__Dispatch__AsyncTimeout"] = "00:03:00";
        // Back pressure is not what this test is about: the bound is above the whole run.
        rig.Settings["Webhooks__Dispatch__MaxBacklog"] = "100000";
        await using var receiver = await Receiver.Start();
        var gate = new CallGate(receiver);
        gate.Hold();
        var host = await rig.StartHost();
        await FaultRig.Define(host, "crm-slow", receiver.Url);
        await rig.WaitUntilMatched(host, webhooks: 1);

        var started = DateTime.UtcNow;
        await rig.PublishAll(Events, parallel: 16, (_, _) => host.Address, giveUpAfter: TimeSpan.FromMinutes(2));
        output.WriteLine($"{Events} events accepted in {(DateTime.UtcNow - started).TotalSeconds:0.0} s while {gate.Held} calls were held");
        Arrivals.Events(receiver.Requests).Count.ShouldBe(0, "every delivery was still waiting");

        gate.Release();
        await Arrivals.WaitUntil(
            () => Arrivals.Events(receiver.Requests).Count >= Events, TimeSpan.FromMinutes(2),
            () => $"{Arrivals.Events(receiver.Requests).Count} of {Events} events arrived");
        output.WriteLine($"all delivered {(DateTime.UtcNow - started).TotalSeconds:0.0} s after the first publish; resent: " +
            string.Join(", ", rig.Resent.Select(r => $"{r.Key} x{r.Value}")));
        Arrivals.ShouldHaveDeliveredEachOnce(receiver.Requests, rig, Events);
    }

    /// <summary>
    /// The default settings, a receiver that stalls then answers slowly, and a small backlog bound: deliveries step
    /// aside for the per-target limit and come back, publishes past the bound are refused with 503 and Retry-After and sent again, readiness never
    /// fails, and every event arrives once.
    /// </summary>
    [Fact]
    public async Task past_the_bound_publishes_wait_with_503_and_readiness_holds()
    {
        await using var rig = await FaultRig.Start();
        rig.Settings["Webhooks__Dispatch__MaxBacklog"] = "500";
        await using var receiver = await Receiver.Start();
        // The receiver holds its calls until the first refusal, so the bound is passed on any machine (a fast one
        // delivered as quickly as the publishers published, and never reached it), then answers in 20 ms each.
        var gate = new CallGate(receiver);
        var gated = receiver.Respond;
        receiver.Respond = async (context, number) =>
        {
            await gated(context, number);
            await Task.Delay(20);
        };
        gate.Hold();
        var host = await rig.StartHost();
        await FaultRig.Define(host, "crm-slow", receiver.Url);
        await rig.WaitUntilMatched(host, webhooks: 1);

        var readiness = new ConcurrentBag<HttpStatusCode>();
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = host.Address };
            while (!watching.IsCancellationRequested)
            {
                readiness.Add((await http.GetAsync("/health/ready")).StatusCode);
                await Task.Delay(250);
            }
        });

        var releaser = Task.Run(async () =>
        {
            var until = DateTime.UtcNow.AddMinutes(1);
            while (!rig.Resent.Keys.Any(k => k.StartsWith("503", StringComparison.Ordinal)) && DateTime.UtcNow < until)
            {
                await Task.Delay(50);
            }

            gate.Release();
        });

        const int events = 6_000;
        await rig.PublishAll(events, parallel: 16, (_, _) => host.Address, giveUpAfter: TimeSpan.FromMinutes(3));
        await Arrivals.WaitUntil(
            () => Arrivals.Events(receiver.Requests).Count >= events, TimeSpan.FromMinutes(3),
            () => $"{Arrivals.Events(receiver.Requests).Count} of {events} events arrived");
        await watching.CancelAsync();
        await watcher;
        await releaser;

        output.WriteLine($"resent: {string.Join(", ", rig.Resent.Select(r => $"{r.Key} x{r.Value}"))}; readiness: " +
            string.Join(", ", readiness.GroupBy(s => s).Select(g => $"{g.Key} x{g.Count()}")));
        rig.Resent.Keys.ShouldContain(k => k.StartsWith("503 Retry-After:", StringComparison.Ordinal), "publishes past the bound were refused for now");
        rig.Resent.Keys.ShouldAllBe(k => k.StartsWith("503 Retry-After:", StringComparison.Ordinal), "no other refusal, no timeout");
        readiness.ShouldAllBe(s => s == HttpStatusCode.OK, "a node that pushes back is busy, not stuck");
        Arrivals.ShouldHaveDeliveredEachOnce(receiver.Requests, rig, events);
    }
}
