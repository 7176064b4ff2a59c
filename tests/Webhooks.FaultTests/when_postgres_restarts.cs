using Webhooks.FaultTests.Infrastructure;
using Webhooks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webhooks.FaultTests;

/// <summary>
/// PostgreSQL goes down for a few seconds in the middle of a run and comes back on the same port: the host recovers
/// by itself (no restart), is ready again, and every accepted event arrives.
/// </summary>
public sealed class when_postgres_restarts(ITestOutputHelper output)
{
    private const int Events = 1500;

    [Fact]
    public async Task the_host_recovers_by_itself_and_loses_nothing()
    {
        await using var rig = await FaultRig.Start();
        await using var receiver = await Receiver.Start();
        var host = await rig.StartHost();
        await FaultRig.Define(host, "crm-sync", receiver.Url);
        await rig.WaitUntilMatched(host, webhooks: 1);

        var publishing = rig.PublishAll(Events, parallel: 8, (_, _) => host.Address);
        await Arrivals.WaitUntil(() => receiver.Requests.Count >= 300, TimeSpan.FromMinutes(2), () => $"{receiver.Requests.Count} arrived");
        await rig.RestartPostgres(down: TimeSpan.FromSeconds(3));
        var arrivedWhileDown = Arrivals.Events(receiver.Requests).Count;

        await publishing;
        await Arrivals.WaitUntil(
            () => Arrivals.Events(receiver.Requests).Count >= Events, TimeSpan.FromMinutes(2),
            () => $"{Arrivals.Events(receiver.Requests).Count} of {Events} events arrived");

        output.WriteLine($"{arrivedWhileDown} events had arrived when PostgreSQL came back; {receiver.Requests.Count} requests in all; " +
            $"publishes sent again: {string.Join(", ", rig.Resent.Select(r => $"{r.Key} x{r.Value}"))}");
        arrivedWhileDown.ShouldBeLessThan(Events, "the restart came in the middle of the run");
        Arrivals.ShouldHaveDeliveredEachOnce(receiver.Requests, rig, Events);
        rig.Resent.Keys.Where(k => k.StartsWith('5')).ShouldBe(["503 Retry-After: 1"],
            "while the database is away, publishes are answered 503 with Retry-After, never 500");
        using var http = new HttpClient { BaseAddress = host.Address };
        (await http.GetAsync("/health/ready")).IsSuccessStatusCode.ShouldBeTrue("the same host process is ready again");
    }
}
