using Webhooks.FaultTests.Infrastructure;
using Webhooks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webhooks.FaultTests;

/// <summary>
/// One webhook's receiver accepts connections and never answers. Another webhook on the same events gets every
/// delivery while the hanging calls are all still open: a hanging target holds its own share of the host
/// (<c>MaxConcurrencyPerTarget</c>) and nothing more.
/// </summary>
public sealed class when_a_receiver_hangs(ITestOutputHelper output)
{
    private const int Events = 500;

    [Fact]
    public async Task other_webhooks_are_delivered_meanwhile()
    {
        await using var rig = await FaultRig.Start();
        rig.Settings["Webhooks__Dispatch__AsyncTimeout"] = "00:05:00";
        using var release = new CancellationTokenSource();
        var (hung, closedByHost) = (0, 0);
        await using var hanging = await Receiver.Start();
        hanging.Respond = async (context, _) =>
        {
            Interlocked.Increment(ref hung);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(release.Token, context.RequestAborted);
            try
            {
                await Task.Delay(Timeout.Infinite, either.Token);
            }
            catch (OperationCanceledException)
            {
            }

            if (!release.IsCancellationRequested)
            {
                // The host gave up on the call (timeout or dropped connection) before the test let it go.
                Interlocked.Increment(ref closedByHost);
            }
        };
        await using var healthy = await Receiver.Start();
        var host = await rig.StartHost();
        await FaultRig.Define(host, "crm-hanging", hanging.Url);
        await FaultRig.Define(host, "crm-sync", healthy.Url);
        await rig.WaitUntilMatched(host, webhooks: 2);

        await rig.PublishAll(Events, parallel: 8, (_, _) => host.Address);
        await Arrivals.WaitUntil(
            () => Arrivals.Events(healthy.Requests).Count >= Events, TimeSpan.FromMinutes(2),
            () => $"{Arrivals.Events(healthy.Requests).Count} of {Events} events reached the healthy receiver");

        output.WriteLine($"{Events} events delivered to the healthy receiver while {Volatile.Read(ref hung)} calls hung");
        Volatile.Read(ref hung).ShouldBeGreaterThan(0, "the hanging receiver was called");
        Volatile.Read(ref closedByHost).ShouldBe(0, "every call to the hanging receiver was still open");
        Arrivals.ShouldHaveDeliveredEachOnce(healthy.Requests, rig, Events);
        await release.CancelAsync();
    }
}
