using System.Text.Json;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.FaultTests.Infrastructure;

/// <summary>What a receiver got, by event: the record's h_pk_id and the delivery's webhook-id of each request.</summary>
public static class Arrivals
{
    public static string EventOf(Received request) =>
        JsonDocument.Parse(request.Body).RootElement.GetProperty("onEntityEvent").GetProperty("record").GetProperty("h_pk_id").GetString()!;

    /// <summary>The events (probes left out) among these requests.</summary>
    public static HashSet<string> Events(IEnumerable<Received> requests) =>
        requests.Select(EventOf).Where(id => !id.StartsWith("probe-", StringComparison.Ordinal)).ToHashSet();

    /// <summary>Waits (polling) until <paramref name="done"/> holds; fails after <paramref name="timeout"/> saying what it saw.</summary>
    public static Task WaitUntil(Func<bool> done, TimeSpan timeout, Func<string> progress) =>
        Poll.Until(() => Task.FromResult(done()), finished => finished, timeout, _ => progress(), every: TimeSpan.FromMilliseconds(100));

    /// <summary>
    /// Every accepted event arrived, under the delivery id its publish answer gave; an event that arrived more than
    /// once always came with that same webhook-id (a receiver deduplicating on webhook-id sees each event once).
    /// </summary>
    public static void ShouldHaveDeliveredEachOnce(IEnumerable<Received> requests, FaultRig rig, int expected)
    {
        rig.Accepted.Count.ShouldBe(expected, "every event was eventually accepted");
        var byEvent = requests
            .Select(r => (Event: EventOf(r), Id: r.Header("webhook-id")!))
            .Where(a => !a.Event.StartsWith("probe-", StringComparison.Ordinal))
            .GroupBy(a => a.Event)
            .ToDictionary(g => g.Key, g => g.Select(a => a.Id).Distinct().ToList());

        var missing = rig.Accepted.Keys.Where(id => !byEvent.ContainsKey(id)).Order().ToList();
        missing.ShouldBeEmpty($"{missing.Count} accepted events never arrived");

        var underTwoIds = byEvent.Where(e => e.Value.Count > 1).Select(e => $"{e.Key}: {string.Join(", ", e.Value)}").ToList();
        underTwoIds.ShouldBeEmpty("an event arrived under more than one webhook-id");

        var wrongId = rig.Accepted
            .Where(a => !a.Value.Deliveries.Select(d => d.ToString()).Contains(byEvent[a.Key][0]))
            .Select(a => a.Key)
            .ToList();
        wrongId.ShouldBeEmpty("an event arrived under a webhook-id its publish answer did not give");
    }
}
