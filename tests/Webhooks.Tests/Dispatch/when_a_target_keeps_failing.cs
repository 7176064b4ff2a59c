using System.Net;
using System.Text.Json;
using Alba;
using Microsoft.AspNetCore.Http;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// Issue 15: a webhook's circuit breaker. After three failed attempts in a row it opens: its deliveries wait (not
/// failed, no attempt spent), one probe is made after a cool-down that doubles while probes fail, and a success closes
/// it. Both changes are in the webhook's history (by <c>system</c>), in its health and stats, and reach the operators'
/// target as signed notifications. A host of its own, on a database of its own, with a small threshold and cool-down.
/// </summary>
[Collection(SharedHost.Name)]
public sealed class when_a_target_keeps_failing : IAsyncLifetime
{
    private const string OperatorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; // base64 of 24 bytes
    private Receiver target = null!;
    private Receiver operators = null!;
    private IAlbaHost host = null!;
    private IWebhooksApi admin = null!;
    private IWebhooksApi auditor = null!;
    private volatile bool failing = true;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(DateTimeOffset At, int Status)> answered = new();

    public async Task InitializeAsync()
    {
        target = await Receiver.Start();
        target.Respond = (context, _) =>
        {
            context.Response.StatusCode = failing ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
            answered.Enqueue((DateTimeOffset.UtcNow, context.Response.StatusCode));
            return Task.CompletedTask;
        };
        operators = await Receiver.Start();
        var settings = await AppFixture.OwnDatabase("breaker");
        host = await AppFixture.StartHost(new Dictionary<string, string>(settings)
        {
            ["Webhooks:Dispatch:Breaker:FailureThreshold"] = "3",
            ["Webhooks:Dispatch:Breaker:CoolDown"] = "00:00:01.500",
            ["Webhooks:Dispatch:Breaker:MaxCoolDown"] = "00:00:06",
            // The last retry well after the breaker opened, so that nothing but probes reaches the target while it is open.
            ["Webhooks:Dispatch:RetrySchedule:2"] = "00:00:01",
            ["Webhooks:Dispatch:Breaker:AutoDisableAfter"] = "00:00:03",
            ["Webhooks:Operations:Targets:oncall:Url"] = operators.Url.ToString(),
            ["Webhooks:Operations:Targets:oncall:Secret"] = OperatorSecret,
        });
        admin = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Admin);
        auditor = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Auditor);
        await host.Define(DefinitionsSetup.Webhook("flaky") with { Url = target.Url.ToString() });
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await target.DisposeAsync();
        await operators.DisposeAsync();
    }

    private async Task<Guid> Published() => (await host.Publish(HttpStatusCode.Accepted)).GetProperty("deliveries")[0].GetProperty("id").GetGuid();

    private List<JsonElement> Notifications(string type) => operators.Requests
        .Select(r => JsonDocument.Parse(r.Body).RootElement.Clone())
        .Where(n => n.GetProperty("type").GetString() == type)
        .ToList();

    [Fact]
    public async Task it_opens_after_three_failures_deliveries_wait_without_attempts_and_a_successful_probe_closes_it()
    {
        var first = await Published();

        // Dispatch follows the definition a moment after Definitions writes it: its own view (the stats) says when it knows.
        await Poll.Until(() => auditor.GetWebhookStats("flaky"), w => w.Health!.Breaker is BreakerStates.Open or BreakerStates.HalfOpen);
        var open = await admin.GetWebhook("flaky");
        open.Health!.Breaker.ShouldBeOneOf(BreakerStates.Open, BreakerStates.HalfOpen);
        open.Health!.ConsecutiveFailures.ShouldBeGreaterThanOrEqualTo(3);
        open.Health.FailingSince.ShouldNotBeNull();
        open.Health.LastError.ShouldBe("The webhook 'flaky' answered 500 InternalServerError.");

        // While it is open, new deliveries wait: pending, no attempt spent (the cool-down is not over yet).
        var waiting = new[] { await Published(), await Published() };
        await Task.Delay(300);
        foreach (var id in waiting)
        {
            var delivery = await auditor.GetDelivery(id);
            delivery.Status.ShouldBe(DeliveryStatuses.Pending);
            delivery.Attempts.ShouldBeEmpty("a delivery waiting for the breaker spends no attempt");
        }

        // The first probe fails: open again, the failure counted, the next probe later.
        var reopened = await Poll.Until(() => admin.GetWebhook("flaky"), w => w.Health!.ConsecutiveFailures > open.Health.ConsecutiveFailures,
            timeout: TimeSpan.FromSeconds(20));
        reopened.Health!.FailingSince.ShouldBe(open.Health.FailingSince);
        (reopened.Health.NextProbeAt - reopened.Health.OpenedAt).ShouldNotBeNull().ShouldBeGreaterThan(TimeSpan.FromSeconds(1.5));
        var history = (await admin.GetWebhookHistory("flaky")).Items.Where(c => c.EventType == "breakerOpened").ToList();
        history.Count.ShouldBe(2);
        history[0].Actor.ShouldBe("system");
        history[0].Reason!.ShouldContain("failed attempts in a row (the last: The webhook 'flaky' answered 500 InternalServerError.)");

        // The target recovers: the next probe succeeds, the breaker closes, the waiting deliveries go.
        failing = false;
        foreach (var id in waiting)
        {
            var delivered = await Poll.Until(() => auditor.GetDelivery(id), d => d.Status != DeliveryStatuses.Pending, timeout: TimeSpan.FromSeconds(20));
            delivered.Status.ShouldBe(DeliveryStatuses.Succeeded);
            delivered.Attempts.Count.ShouldBeLessThanOrEqualTo(2, "at most it was the failed probe, then made");
        }

        (await Poll.Until(() => admin.GetWebhook("flaky"), w => w.Health!.Breaker == BreakerStates.Closed)).Health!.ConsecutiveFailures.ShouldBe(0);
        var changes = (await admin.GetWebhookHistory("flaky")).Items;
        changes[^1].EventType.ShouldBe("breakerClosed");
        // While it was open only probes reached the target: the failed ones, one per opening after the first (the call that
        // closed it is the first success; the waiting deliveries follow it, before or after the close is recorded).
        var from = changes.First(c => c.EventType == "breakerOpened").At;
        answered.Count(a => a.At > from && a.Status == StatusCodes.Status500InternalServerError)
            .ShouldBe(changes.Count(c => c.EventType == "breakerOpened") - 1);
        (await auditor.GetWebhookStats("flaky")).Health!.Breaker.ShouldBe(BreakerStates.Closed);
        var audit = await Poll.Until(() => auditor.GetAuditLog(), a => a.Items.Any(e => e.Action == "breakerClosed"), timeout: TimeSpan.FromSeconds(30));
        audit.Items.First(e => e.Action == "breakerOpened").Actor.ShouldBe("system");

        // The operators heard both, signed with their secret.
        var opened = await Poll.Until(() => Task.FromResult(Notifications("webhook.breakerOpened")), n => n.Count >= 1);
        opened[0].GetProperty("webhook").GetString().ShouldBe("flaky");
        opened[0].GetProperty("consecutiveFailures").GetInt32().ShouldBeGreaterThanOrEqualTo(3);
        opened[0].GetProperty("lastError").GetString()!.ShouldContain("500");
        var closed = await Poll.Until(() => Task.FromResult(Notifications("webhook.breakerClosed")), n => n.Count == 1);
        closed[0].GetProperty("webhookId").GetGuid().ShouldBe(open.Id);
        operators.Requests.ShouldAllBe(r => DispatchSetup.SignedBy(r, OperatorSecret));
        // The first one's last attempt waited for a probe too: it is made once the breaker lets it.
        await Poll.Until(() => auditor.GetDelivery(first), d => d.Status != DeliveryStatuses.Pending, timeout: TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task a_delivery_that_fails_for_good_is_told_to_the_operators()
    {
        var id = await Published();

        var failed = await Poll.Until(() => auditor.GetDelivery(id), d => d.Status == DeliveryStatuses.Failed, timeout: TimeSpan.FromSeconds(30));

        failed.Attempts.Count.ShouldBe(4, "the breaker made the last attempt wait for its probe, but spent none");
        var told = (await Poll.Until(() => Task.FromResult(Notifications("delivery.failed")), n => n.Count == 1)).Single();
        told.GetProperty("delivery").GetProperty("id").GetGuid().ShouldBe(id);
        told.GetProperty("delivery").GetProperty("attempts").GetInt32().ShouldBe(4);
        told.GetProperty("delivery").GetProperty("reason").GetString()!.ShouldStartWith("Gave up after 4 attempts");
        told.GetProperty("link").GetString()!.ShouldEndWith($"/deliveries/{id}");
        DispatchSetup.SignedBy(operators.Requests.First(r => r.Text.Contains("delivery.failed", StringComparison.Ordinal)), OperatorSecret).ShouldBeTrue();
    }

    [Fact]
    public async Task a_429_slows_the_target_down_without_counting_towards_the_breaker()
    {
        target.Respond = (context, number) =>
        {
            if (number <= 3)
            {
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = "1";
            }

            return Task.CompletedTask;
        };

        var id = await Published();

        var delivered = await Poll.Until(() => auditor.GetDelivery(id), d => d.Status != DeliveryStatuses.Pending, timeout: TimeSpan.FromSeconds(20));
        delivered.Status.ShouldBe(DeliveryStatuses.Succeeded);
        delivered.Attempts.Select(a => a.StatusCode).ShouldBe([429, 429, 429, 200]);
        (delivered.Attempts[1].At - delivered.Attempts[0].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9), "Retry-After: 1 was honoured");
        (await admin.GetWebhookHistory("flaky")).Items.ShouldNotContain(c => c.EventType == "breakerOpened");
        (await admin.GetWebhook("flaky")).Health!.Breaker.ShouldBe(BreakerStates.Closed);
    }

    [Fact]
    public async Task a_target_failing_for_too_long_disables_its_webhook_keeping_its_deliveries_which_the_enabling_resumes()
    {
        // Deliveries keep coming while the target fails: the probe after AutoDisableAfter (3 s here) disables the webhook.
        var published = new List<Guid>();
        var disabled = await Poll.Until(async () =>
        {
            // Once it is disabled, a publish matches it no more: no delivery.
            var deliveries = (await host.Publish(HttpStatusCode.Accepted)).GetProperty("deliveries");
            published.AddRange(deliveries.EnumerateArray().Select(d => d.GetProperty("id").GetGuid()));
            return await admin.GetWebhook("flaky");
        }, w => !w.Enabled, timeout: TimeSpan.FromSeconds(30), every: TimeSpan.FromMilliseconds(400));

        disabled.DisabledReason!.ShouldStartWith("Disabled by the system: its target has been failing since");
        var change = (await admin.GetWebhookHistory("flaky")).Items.Last(c => c.EventType == "disabled");
        change.Actor.ShouldBe("system");
        var told = (await Poll.Until(() => Task.FromResult(Notifications("webhook.disabled")), n => n.Count == 1)).Single();
        told.GetProperty("reason").GetString().ShouldBe(disabled.DisabledReason);

        // Its deliveries are kept: those still waiting for a probe park when they come due, saying why (a disabled webhook
        // gets no new deliveries).
        var parked = await Poll.Until(
            async () => (await Task.WhenAll(published.Select(id => auditor.GetDelivery(id)))).Where(d => d.Reason?.StartsWith("Waiting", StringComparison.Ordinal) == true).ToList(),
            p => p.Count > 0, timeout: TimeSpan.FromSeconds(20));
        parked.ShouldAllBe(d => d.Status == DeliveryStatuses.Pending);
        parked[0].Reason!.ShouldStartWith("Waiting: the webhook is disabled (Disabled by the system");

        // The target is back and the admin enables it: they are made, once each, the breaker starting closed.
        failing = false;
        var enabled = await admin.EnableWebhook("flaky");
        enabled.Health!.Breaker.ShouldBe(BreakerStates.Closed);
        foreach (var waited in parked)
        {
            var delivery = await Poll.Until(() => auditor.GetDelivery(waited.Id), d => d.Status != DeliveryStatuses.Pending, timeout: TimeSpan.FromSeconds(20));
            delivery.Status.ShouldBe(DeliveryStatuses.Succeeded);
            // Made once more (one had failed as the probe before it was parked: that attempt stays in its history).
            delivery.Attempts.Count(a => a.StatusCode == 200).ShouldBe(1);
            delivery.Attempts.Count.ShouldBe(waited.Attempts.Count + 1);
        }

        (await admin.GetWebhookHistory("flaky")).Items[^1].Reason.ShouldBe("Its parked deliveries resume.");
    }

    [Fact]
    public async Task an_enabling_may_fail_the_parked_deliveries_instead()
    {
        // The webhook is disabled while a delivery's first attempt is in flight; its retry, due after, parks.
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        target.Respond = async (context, _) =>
        {
            arrived.TrySetResult();
            await release.Task;
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        };
        var id = await Published();
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await host.ExecuteAndWaitAsync(() => admin.DisableWebhook("flaky", reason: "maintenance"));
        release.SetResult();
        var parked = await Poll.Until(() => auditor.GetDelivery(id), d => d.Reason is not null);
        parked.Reason!.ShouldStartWith("Waiting: the webhook is disabled (maintenance)");
        parked.Attempts.Count.ShouldBe(1);

        var refused = await Should.ThrowAsync<Refit.ValidationApiException>(() => admin.EnableWebhook("flaky", pending: "later"));
        refused.Content!.Errors["pending"].Single().ShouldBe("pending must be one of: resume, fail.");

        await admin.EnableWebhook("flaky", pending: PendingOnEnable.Fail);

        var failed = await Poll.Until(() => auditor.GetDelivery(id), d => d.Status != DeliveryStatuses.Pending);
        failed.Status.ShouldBe(DeliveryStatuses.Failed);
        failed.Reason!.ShouldStartWith("Failed when admin enabled the webhook again (pending=fail)");
        failed.Attempts.Count.ShouldBe(1);
        target.Requests.Count.ShouldBe(1);
    }
}
