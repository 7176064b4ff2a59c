using System.Net;
using Refit;
using Webhooks.Dispatch.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Dispatch;

public sealed class when_recovering_and_measuring(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task statistics_count_deliveries_by_status_and_give_call_latency_percentiles()
    {
        Receiver.Respond = async (context, number) =>
        {
            if (number == 4)
            {
                await Task.Delay(400);
            }

            context.Response.StatusCode = number == 3 ? 400 : 200;
        };
        await Fixture.Hook("measured", Receiver.Url, Webhooks.Definitions.Contracts.PostModes.Sync);
        var before = DateTimeOffset.UtcNow;
        for (var i = 0; i < 4; i++)
        {
            await Host.Publish(HttpStatusCode.OK);
        }

        var stats = await Fixture.Client(TestKeys.Auditor).GetWebhookStats("measured");

        (stats.Succeeded, stats.Failed, stats.Pending, stats.Skipped, stats.Attempts).ShouldBe((3, 1, 0, 0, 4));
        stats.SuccessRate.ShouldBe(0.75);
        stats.LatencyP50Ms!.Value.ShouldBeLessThan(400);
        stats.LatencyP99Ms!.Value.ShouldBeGreaterThanOrEqualTo(380);
        stats.LatencyP50Ms.Value.ShouldBeLessThanOrEqualTo(stats.LatencyP95Ms!.Value);

        var empty = await Fixture.Client(TestKeys.Auditor).GetWebhookStats("measured", until: before);
        (empty.Succeeded + empty.Failed, empty.SuccessRate, empty.LatencyP50Ms).ShouldBe((0, (double?)null, (double?)null));
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Auditor).GetWebhookStats("nobody"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Auditor).GetWebhookStats("measured", from: before, until: before.AddSeconds(-1))))
            .StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task recover_redelivers_every_failed_delivery_since_then()
    {
        Receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 400;
            return Task.CompletedTask;
        };
        await Fixture.Hook("recoverable", Receiver.Url, Webhooks.Definitions.Contracts.PostModes.Sync);
        var since = DateTimeOffset.UtcNow;
        var first = await Host.Publish(HttpStatusCode.OK);
        var second = await Host.Publish(HttpStatusCode.OK);
        Receiver.Respond = (context, _) => Task.CompletedTask;

        var result = await Fixture.Client(TestKeys.Admin).RecoverWebhook("recoverable", new RecoverWindow(since));

        result.Redelivered.ShouldBe(2);
        var again = await Receiver.WaitFor(4);
        again.Skip(2).Select(r => r.Header("webhook-id")).ShouldBe(
            [first.GetProperty("deliveries")[0].GetProperty("id").GetString(), second.GetProperty("deliveries")[0].GetProperty("id").GetString()],
            ignoreOrder: true);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Admin).RecoverWebhook("recoverable", new RecoverWindow(null))))
            .StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Auditor).RecoverWebhook("recoverable", new RecoverWindow(since))))
            .StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Admin).RecoverWebhook("nobody", new RecoverWindow(since))))
            .StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
