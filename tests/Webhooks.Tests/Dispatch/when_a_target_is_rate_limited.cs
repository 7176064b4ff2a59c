using System.Net;
using System.Text.Json;
using Alba;
using Microsoft.AspNetCore.Http;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// Issue 15: a webhook's rate limit holds across two hosts on one database (a token bucket in PostgreSQL), observed at
/// the receiver; its concurrency limit holds at the receiver too; a 429 with Retry-After pauses its deliveries.
/// </summary>
[Collection(SharedHost.Name)]
public sealed class when_a_target_is_rate_limited : IAsyncLifetime
{
    private Receiver receiver = null!;
    private Dictionary<string, string> settings = null!;

    public async Task InitializeAsync()
    {
        receiver = await Receiver.Start();
        settings = await AppFixture.OwnDatabase("ratelimit");
    }

    public async Task DisposeAsync() => await receiver.DisposeAsync();

    private static async Task<int> Publish(IAlbaHost host)
    {
        var result = await host.Scenario(s =>
        {
            s.WithKey(TestKeys.Publisher);
            s.Post.Json(DispatchSetup.Event()).ToUrl("/events");
            s.IgnoreStatusCode();
        });
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.TryGetProperty("deliveries", out var d) ? d.GetArrayLength() : 0;
    }

    [Fact]
    public async Task two_hosts_together_send_no_more_than_the_limit()
    {
        await using var first = await AppFixture.StartHost(settings);
        await using var second = await AppFixture.StartHost(settings);
        await first.Define(DefinitionsSetup.Webhook("limited") with { Url = receiver.Url.ToString(), RateLimit = new RateLimit(10, 5) });
        // The other host knows the webhook (from PostgreSQL's notification) once its publishes match it.
        await Poll.Until(() => Publish(second), n => n == 1, TimeSpan.FromSeconds(5), every: TimeSpan.FromMilliseconds(100));

        var started = DateTimeOffset.UtcNow;
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Publish(i % 2 == 0 ? first : second)));
        var received = await receiver.WaitFor(41, TimeSpan.FromSeconds(30));

        // A token bucket of 10/s with bursts of 5: in any second, at most 5 + 10; 41 calls take at least (41 - 5 - 1) / 10 s.
        var times = received.Select(r => r.At).Order().ToList();
        var busiest = times.Max(t => times.Count(u => u >= t && u < t.AddSeconds(1)));
        busiest.ShouldBeLessThanOrEqualTo(15, $"at most burst + rate in any second; two hosts each at the limit would send ~{2 * 10}+");
        (times[^1] - times[0]).ShouldBeGreaterThan(TimeSpan.FromSeconds(3), "two hosts each keeping the limit alone would finish in half the time");
        (times[^1] - started).ShouldBeLessThan(TimeSpan.FromSeconds(15), "the limit slows, it does not stall");
        received.Select(r => r.Header("webhook-id")).Distinct().Count().ShouldBe(41, "each delivery made once");
    }

    [Fact]
    public async Task its_concurrency_limit_holds_at_the_target_and_a_429_pauses_it()
    {
        var inFlight = 0;
        var most = 0;
        receiver.Respond = async (context, number) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            int seen;
            while ((seen = Volatile.Read(ref most)) < now && Interlocked.CompareExchange(ref most, now, seen) != seen)
            {
            }

            await Task.Delay(200);
            Interlocked.Decrement(ref inFlight);
            if (number == 1)
            {
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = "1";
            }
        };
        await using var host = await AppFixture.StartHost(settings);
        await host.Define(DefinitionsSetup.Webhook("narrow") with { Url = receiver.Url.ToString(), MaxConcurrency = 2 });

        await Publish(host);
        await receiver.WaitFor(1);
        var paused = DateTimeOffset.UtcNow;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Publish(host)));
        var received = await receiver.WaitFor(10, TimeSpan.FromSeconds(20));

        most.ShouldBeLessThanOrEqualTo(2);
        // After the 429 (Retry-After: 1) nothing went to the target for about a second.
        received.Skip(1).Min(r => r.At).ShouldBeGreaterThan(paused.AddSeconds(0.7));
    }

    [Fact]
    public async Task bad_limits_are_field_errors()
    {
        await using var host = await AppFixture.StartHost(settings);
        var admin = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Admin);
        var refused = await Should.ThrowAsync<Refit.ValidationApiException>(() => admin.DefineWebhook(DefinitionsSetup.Webhook("bad") with
        {
            RateLimit = new RateLimit(0, 0),
            MaxConcurrency = 1000,
            Ordering = new Ordering(true, "h_\u0001id"),
        }));
        refused.Content!.Errors["rateLimit.perSecond"].Single().ShouldStartWith("rateLimit.perSecond must be between 0.001 and 10000");
        refused.Content.Errors["rateLimit.burst"].Single().ShouldBe("rateLimit.burst must be between 1 and 10000.");
        refused.Content.Errors["maxConcurrency"].Single().ShouldBe("maxConcurrency must be between 1 and 256.");
        refused.Content.Errors["ordering.key"].Single().ShouldStartWith("ordering.key must name a record field");
        (await admin.ListWebhooks()).Items.ShouldBeEmpty("nothing was written");
    }
}
