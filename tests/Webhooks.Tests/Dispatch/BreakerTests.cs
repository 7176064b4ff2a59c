using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch;
using Webhooks.Dispatch.Flow;
using Webhooks.Dispatch.Outbound;

namespace Webhooks.Tests.Dispatch;

/// <summary>The breaker's decisions on one host, without a target: what counts, when it opens, probes, closes.</summary>
public sealed class BreakerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly DispatchOptions Options = new() { Breaker = new() { FailureThreshold = 3, CoolDown = TimeSpan.FromSeconds(10), MaxCoolDown = TimeSpan.FromSeconds(35) } };

    private static readonly WebhookDefinition Closed = new(
        Guid.NewGuid(), "hook", null, "app", "source", true, null, null, "https://crm.example.com/hooks", "json", "async", null, 3, Now, Now);

    private static CallOutcome Answer(int status) => new(status, 5, null, null, null, null, new Dictionary<string, string>());

    private static WebhookDefinition Open(int failures, DateTimeOffset nextProbeAt) =>
        Closed with { Health = new WebhookHealth(BreakerStates.Open, failures, Now, nextProbeAt, Now.AddMinutes(-1), "500") };

    [Fact]
    public void it_asks_to_open_once_at_the_threshold_of_failures_in_a_row_and_a_success_starts_the_count_again()
    {
        var breakers = new Breakers(Options);
        breakers.Record(Closed, Answer(500), false, Now).ShouldBeNull();
        breakers.Record(Closed, Answer(500), false, Now).ShouldBeNull();
        breakers.Record(Closed, Answer(200), false, Now).ShouldBeNull();
        breakers.Record(Closed, Answer(500), false, Now).ShouldBeNull();
        breakers.Record(Closed, Answer(503), false, Now.AddSeconds(1)).ShouldBeNull();

        var open = breakers.Record(Closed, Answer(500), false, Now.AddSeconds(2)).ShouldNotBeNull();

        open.Opens.ShouldBeTrue();
        open.ConsecutiveFailures.ShouldBe(3);
        open.FailingSince.ShouldBe(Now, "the first failure of the run");
        open.NextProbeAt.ShouldBe(Now.AddSeconds(12));
        open.LastError.ShouldBe("The webhook 'hook' answered 500 InternalServerError.");
        breakers.Record(Closed, Answer(500), false, Now.AddSeconds(3)).ShouldBeNull("asked already; the definition saying so is on its way");
    }

    [Fact]
    public void a_429_and_a_refusal_before_sending_do_not_count()
    {
        var breakers = new Breakers(Options);
        for (var i = 0; i < 10; i++)
        {
            breakers.Record(Closed, Answer(429), false, Now).ShouldBeNull();
            breakers.Record(Closed, Answer(429) with { StatusCode = null, Error = "refused", Permanent = true }, false, Now).ShouldBeNull();
        }
    }

    [Fact]
    public void while_open_deliveries_wait_one_probe_goes_after_the_cool_down_and_its_answer_decides()
    {
        var breakers = new Breakers(Options);
        var webhook = Open(3, Now.AddSeconds(10));

        var (verdict, until) = breakers.Gate(webhook, Now);
        verdict.ShouldBe(BreakerVerdict.Wait);
        until.ShouldBeInRange(Now.AddSeconds(10), Now.AddSeconds(11));

        breakers.Gate(webhook, Now.AddSeconds(10)).Verdict.ShouldBe(BreakerVerdict.Probe);
        breakers.Gate(webhook, Now.AddSeconds(10)).Verdict.ShouldBe(BreakerVerdict.Wait, "one probe at a time");

        // A call that left before the breaker opened says nothing new; the probe's failure opens it again, for longer.
        breakers.Record(webhook, Answer(500), false, Now.AddSeconds(10)).ShouldBeNull();
        var again = breakers.Record(webhook, Answer(500), true, Now.AddSeconds(11)).ShouldNotBeNull();
        again.ConsecutiveFailures.ShouldBe(4);
        again.FailingSince.ShouldBe(Now.AddMinutes(-1));
        again.NextProbeAt.ShouldBe(Now.AddSeconds(11 + 20), "the cool-down doubled");

        var success = breakers.Record(Open(4, Now.AddSeconds(31)), Answer(204), true, Now.AddSeconds(31)).ShouldNotBeNull();
        success.Opens.ShouldBeFalse();
    }

    [Fact]
    public void before_the_definition_catches_up_a_failed_probe_allows_no_second_and_a_successful_one_lets_deliveries_go()
    {
        var breakers = new Breakers(Options);
        var webhook = Open(3, Now);
        breakers.Gate(webhook, Now).Verdict.ShouldBe(BreakerVerdict.Probe);
        breakers.Record(webhook, Answer(500), true, Now).ShouldNotBeNull();
        // The definition still says the old probe time: this host waits for the one it asked for.
        var (verdict, until) = breakers.Gate(webhook, Now.AddSeconds(1));
        verdict.ShouldBe(BreakerVerdict.Wait);
        until.ShouldBeGreaterThanOrEqualTo(Now.AddSeconds(20));

        breakers.Gate(webhook, Now.AddSeconds(21)).Verdict.ShouldBe(BreakerVerdict.Probe);
        breakers.Record(webhook, Answer(200), true, Now.AddSeconds(21)).ShouldNotBeNull().Opens.ShouldBeFalse();
        breakers.Gate(webhook, Now.AddSeconds(21)).Verdict.ShouldBe(BreakerVerdict.Go, "its probe succeeded; the definition saying so is on its way");

        // Once the definition says closed, the count starts afresh: one failure does not reopen it.
        breakers.Record(Closed, Answer(500), false, Now.AddSeconds(22)).ShouldBeNull();
        breakers.Record(Closed, Answer(500), false, Now.AddSeconds(23)).ShouldBeNull();
    }

    [Fact]
    public void an_abandoned_probe_lets_the_next_delivery_probe()
    {
        var breakers = new Breakers(Options);
        var webhook = Open(3, Now);
        breakers.Gate(webhook, Now).Verdict.ShouldBe(BreakerVerdict.Probe);
        breakers.Abandon(webhook.Id);
        breakers.Gate(webhook, Now).Verdict.ShouldBe(BreakerVerdict.Probe);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 20)]
    [InlineData(2, 35)]
    [InlineData(40, 35)]
    public void the_cool_down_doubles_up_to_its_most(int failedProbes, int seconds) =>
        Options.Breaker.CoolDownAfter(failedProbes).ShouldBe(TimeSpan.FromSeconds(seconds));
}
