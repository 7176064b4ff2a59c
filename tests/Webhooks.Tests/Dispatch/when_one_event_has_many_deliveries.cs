using System.Net;
using Alba;
using Webhooks.Dispatch.Delivery;
using Webhooks.Tests.Infrastructure;
using Wolverine;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// The deliveries of one event append to its one stream (issue 14). Recorded by two commit loops at once they would
/// collide on the stream's version, fail their commit and be made again: each stream belongs to one commit loop, and
/// a write that meets another node's append is written again.
/// </summary>
public sealed class when_one_event_has_many_deliveries(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task a_commit_s_first_attempts_travel_together_and_a_batch_handled_again_calls_nobody_twice()
    {
        await Fixture.Hook("batched-a", Receiver.Url);
        await Fixture.Hook("batched-b", Receiver.Url);

        var (answer, tracked) = await Host.PublishTracked(HttpStatusCode.Accepted);
        await Receiver.WaitFor(2);

        var batch = tracked.Sent.MessagesOf<DeliverWebhooks>().ShouldHaveSingleItem("one publish, one commit: one message for both deliveries");
        batch.Deliveries.Select(d => d.DeliveryId).Order()
            .ShouldBe(answer.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()).Order());
        tracked.Sent.MessagesOf<DeliverWebhook>().ShouldBeEmpty("no first attempt travels alone");

        var again = await Host.ExecuteAndWaitAsync(() => Host.MessageBus().InvokeAsync(batch));

        again.Deliveries().ShouldBeEmpty("nothing was put back for later");
        Receiver.Requests.Count.ShouldBe(2, "both deliveries were made already: handled again, the batch calls nobody");
    }

    [Fact]
    public async Task an_empty_batch_or_one_of_deliveries_ended_already_calls_nobody_and_writes_nothing()
    {
        await Fixture.Hook("ended", Receiver.Url);
        var (answer, tracked) = await Host.PublishTracked(HttpStatusCode.Accepted);
        await Receiver.WaitFor(1);
        var batch = tracked.Sent.MessagesOf<DeliverWebhooks>().Single();

        await Host.ExecuteAndWaitAsync(() => Host.MessageBus().InvokeAsync(new DeliverWebhooks([])));
        await Host.ExecuteAndWaitAsync(() => Host.MessageBus().InvokeAsync(batch));

        Receiver.Requests.Count.ShouldBe(1);
        var delivery = await Fixture.Client(TestKeys.Auditor).GetDelivery(answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid());
        delivery.Attempts.Count.ShouldBe(1, "nothing was appended to the delivery by the batch handled again");
    }

    [Fact]
    public async Task twenty_deliveries_of_one_event_are_each_made_once_and_recorded_in_its_stream()
    {
        for (var i = 0; i < 20; i++)
        {
            await Fixture.Hook($"fan-{i}", Receiver.Url);
        }

        var logged = Fixture.Logs.Lines.Count;

        for (var round = 0; round < 3; round++)
        {
            await Host.PublishTracked(HttpStatusCode.Accepted);
        }

        await Receiver.WaitFor(60);
        var ids = Receiver.Requests.Select(r => r.Header("webhook-id")).ToList();
        ids.Distinct().Count().ShouldBe(60);
        ids.Count.ShouldBe(60, "no delivery was called twice");
        Fixture.Logs.Lines.Skip(logged).ShouldNotContain(
            l => l.Contains("Failed to process message Webhooks.Dispatch.Delivery", StringComparison.Ordinal), "no delivery message failed (and was made again)");
    }
}
