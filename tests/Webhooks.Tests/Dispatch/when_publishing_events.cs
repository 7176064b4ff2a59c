using System.Net;
using System.Text;
using System.Text.Json;
using Alba;
using Marten;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.History;
using Webhooks.Tests.Infrastructure;
using Wolverine;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

public sealed class when_publishing_events(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task an_async_webhook_receives_the_hornbill_payload_signed_and_authenticated()
    {
        var key = await Fixture.CreatedKey(username: "crm-user", password: "crm-pw");
        await Fixture.Hook("notify-crm", Receiver.Url, keyId: key.Id);

        var answer = await Host.Publish(HttpStatusCode.Accepted);
        var request = (await Receiver.WaitFor(1)).Single();

        var delivery = answer.GetProperty("deliveries").EnumerateArray().Single();
        delivery.GetProperty("status").GetString().ShouldBe("pending");
        delivery.GetProperty("webhook").GetString().ShouldBe("notify-crm");
        answer.TryGetProperty("allowed", out _).ShouldBeFalse();

        request.Method.ShouldBe("POST");
        request.Header("Content-Type").ShouldBe("application/json; charset=utf-8");
        request.Header("webhook-id").ShouldBe(delivery.GetProperty("id").GetString());
        long.Parse(request.Header("webhook-timestamp")!, System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBeInRange(DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        request.Header("User-Agent")!.ShouldStartWith("Webhooks/");
        request.Header("Authorization").ShouldBe("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("crm-user:crm-pw")));
        var secret = await Fixture.Client(TestKeys.Admin).GetSigningSecret("notify-crm");
        DispatchSetup.SignedBy(request, secret.Secret).ShouldBeTrue();

        var payload = JsonDocument.Parse(request.Body).RootElement.GetProperty("onEntityEvent");
        payload.EnumerateObject().Select(p => p.Name).ShouldBe(
            ["eventSource", "callingSessionId", "eventTime", "actionBy", "actionByName", "entity", "record"]);
        payload.GetProperty("eventSource").GetString().ShouldBe("urn:webhook:entity:Contact:update");
        payload.GetProperty("callingSessionId").GetString().ShouldBe("U2015111600017554");
        payload.GetProperty("eventTime").GetString()!.ShouldMatch(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$");
        payload.GetProperty("actionBy").GetString().ShouldBe("admin");
        payload.GetProperty("actionByName").GetString().ShouldBe("System Administrator");
        payload.GetProperty("entity").GetString().ShouldBe("Contact");
        payload.GetProperty("record").GetProperty("h_pk_id").GetString().ShouldBe("103");
        payload.GetProperty("record").GetProperty("h_name").GetString().ShouldBe("Gary");
    }

    [Fact]
    public async Task an_xml_webhook_receives_well_formed_xml()
    {
        await Fixture.Hook("xml-hook", Receiver.Url, format: PayloadFormats.Xml);

        await Host.Publish(HttpStatusCode.Accepted, DispatchSetup.Event(new { h_name = "A & <B>", h_n = 5, h_null = (string?)null }));
        var request = (await Receiver.WaitFor(1)).Single();

        request.Header("Content-Type").ShouldBe("application/xml; charset=utf-8");
        var xml = System.Xml.Linq.XDocument.Parse(request.Text).Root!;
        xml.Name.LocalName.ShouldBe("onEntityEvent");
        xml.Element("eventSource")!.Value.ShouldBe("urn:webhook:entity:Contact:update");
        xml.Element("record")!.Element("h_name")!.Value.ShouldBe("A & <B>");
        xml.Element("record")!.Element("h_n")!.Value.ShouldBe("5");
    }

    [Fact]
    public async Task a_sync_webhook_that_answers_2xx_allows_and_one_that_fails_only_warns()
    {
        await using var failing = await Receiver.Start();
        failing.Respond = async (context, _) =>
        {
            context.Response.StatusCode = 500;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("Ticket system is down");
        };
        await Fixture.Hook("sync-ok", Receiver.Url, PostModes.Sync);
        await Fixture.Hook("sync-failing", failing.Url, PostModes.Sync);

        var answer = await Host.Publish(HttpStatusCode.OK);

        answer.GetProperty("allowed").GetBoolean().ShouldBeTrue();
        var warning = answer.GetProperty("warnings").EnumerateArray().Single();
        warning.GetProperty("webhook").GetString().ShouldBe("sync-failing");
        warning.GetProperty("statusCode").GetInt32().ShouldBe(500);
        warning.GetProperty("message").GetString().ShouldBe("Ticket system is down");
        answer.GetProperty("deliveries").EnumerateArray().Select(d => (d.GetProperty("webhook").GetString(), d.GetProperty("status").GetString()))
            .ShouldBe([("sync-ok", "succeeded"), ("sync-failing", "failed")], ignoreOrder: true);
        Receiver.Requests.Count.ShouldBe(1, "sync webhooks are called once, not retried");
        failing.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task a_sync_critical_403_text_plain_vetoes_with_its_message_and_schedules_nothing_async()
    {
        await using var critical = await Receiver.Start();
        critical.Respond = async (context, _) =>
        {
            context.Response.StatusCode = 403;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("Le contact « Gary » est verrouillé", Encoding.UTF8);
        };
        await Fixture.Hook("gatekeeper", critical.Url, PostModes.SyncCritical);
        await Fixture.Hook("async-after", Receiver.Url);

        var (problem, tracked) = await Host.PublishTracked(HttpStatusCode.UnprocessableEntity);

        problem.GetProperty("type").GetString().ShouldBe("urn:webhooks:rejected");
        problem.GetProperty("detail").GetString().ShouldBe("Le contact « Gary » est verrouillé");
        problem.GetProperty("webhook").GetString().ShouldBe("gatekeeper");
        problem.GetProperty("statusCode").GetInt32().ShouldBe(403);
        problem.GetProperty("eventId").GetGuid().ShouldNotBe(Guid.Empty);
        problem.GetProperty("errors").EnumerateArray().Single().GetProperty("webhook").GetString().ShouldBe("gatekeeper");
        problem.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("webhook").GetString()).ShouldBe(["gatekeeper"]);
        // This event's deliveries (a message of an earlier test still on its way may be seen too).
        tracked.Deliveries().Where(d => d.EventId == problem.GetProperty("eventId").GetGuid())
            .ShouldBeEmpty("a vetoed event schedules no async delivery");
        Receiver.Requests.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("500 without a body", "answered 500")]
    [InlineData("timeout", "timeout")]
    [InlineData("connection refused", "could not be called")]
    public async Task a_sync_critical_failure_of_any_kind_vetoes_with_a_message_naming_the_webhook(string failure, string message)
    {
        var target = Receiver.Url;
        switch (failure)
        {
            case "500 without a body":
                Receiver.Respond = (context, _) =>
                {
                    context.Response.StatusCode = 500;
                    return Task.CompletedTask;
                };
                break;
            case "timeout":
                Receiver.Respond = (_, _) => Task.Delay(TimeSpan.FromSeconds(3));
                break;
            default:
                await using (var closed = await Receiver.Start())
                {
                    target = closed.Url;
                }

                break;
        }

        await Fixture.Hook("gatekeeper", target, PostModes.SyncCritical);

        var problem = await Host.Publish(HttpStatusCode.UnprocessableEntity);

        var detail = problem.GetProperty("detail").GetString()!;
        detail.ShouldContain("gatekeeper");
        detail.ShouldContain(message);
    }

    [Fact]
    public async Task a_failing_async_delivery_is_retried_with_the_same_webhook_id_until_it_succeeds()
    {
        Receiver.Respond = (context, number) =>
        {
            context.Response.StatusCode = number <= 2 ? 500 : 200;
            return Task.CompletedTask;
        };
        await Fixture.Hook("flaky", Receiver.Url);

        var answer = await Host.Publish(HttpStatusCode.Accepted);
        var requests = await Receiver.WaitFor(3);

        var deliveryId = answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid();
        requests.Select(r => r.Header("webhook-id")).ShouldAllBe(id => id == deliveryId.ToString());
        await WaitUntil(deliveryId, typeof(DeliverySucceeded));
        var events = await Stream(deliveryId);
        events.OfType<DeliveryAttempted>().Select(a => (a.Number, a.StatusCode)).ShouldBe([(1, (int?)500), (2, 500), (3, 200)]);
        events.OfType<DeliveryAttempted>().ShouldAllBe(a => a.RequestHeaders["webhook-id"] == deliveryId.ToString());
    }

    [Fact]
    public async Task an_async_delivery_that_never_succeeds_fails_after_the_schedule()
    {
        Receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        };
        await Fixture.Hook("down", Receiver.Url);

        var answer = await Host.Publish(HttpStatusCode.Accepted);
        var deliveryId = answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid();

        await WaitUntil(deliveryId, typeof(DeliveryFailed));
        Receiver.Requests.Count.ShouldBe(4, "one attempt and three retries, as the schedule says");
        (await Stream(deliveryId)).OfType<DeliveryFailed>().Single().Reason.ShouldContain("Gave up after 4 attempts");
    }

    [Fact]
    public async Task a_410_gone_disables_the_webhook_as_the_system()
    {
        Receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 410;
            return Task.CompletedTask;
        };
        await Fixture.Hook("gone", Receiver.Url);

        await Host.Publish(HttpStatusCode.Accepted);

        var webhook = await Fixture.Client(TestKeys.Admin).GetWebhook("gone");
        webhook.Enabled.ShouldBeFalse();
        webhook.DisabledReason!.ShouldContain("410");
        (await Fixture.Client(TestKeys.Admin).GetWebhookHistory("gone")).Items[^1].Actor.ShouldBe("system");
        Receiver.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task a_retry_after_is_honoured()
    {
        Receiver.Respond = (context, number) =>
        {
            context.Response.StatusCode = number == 1 ? 429 : 200;
            context.Response.Headers.RetryAfter = "1";
            return Task.CompletedTask;
        };
        await Fixture.Hook("throttled", Receiver.Url);

        await Host.Publish(HttpStatusCode.Accepted);
        var requests = await Receiver.WaitFor(2);

        (requests[1].At - requests[0].At).ShouldBeGreaterThan(TimeSpan.FromMilliseconds(900), "the target asked for a second; the schedule says 50 ms");
    }

    [Fact]
    public async Task a_trigger_expression_filters_events_and_one_that_cannot_be_evaluated_skips_with_its_reason()
    {
        await Fixture.Hook("only-g", Receiver.Url, trigger: "LEFT(h_name) = 'G' AND h_email NOT NULL");
        await Fixture.Hook("broken", Receiver.Url, trigger: "LEFT(h_name, h_count) = 'x'");

        var answer = await Host.Publish(HttpStatusCode.Accepted, DispatchSetup.Event(new { h_name = "Bob", h_email = "b@x", h_count = -1 }));
        var deliveries = answer.GetProperty("deliveries").EnumerateArray().ToList();
        deliveries.Single().GetProperty("webhook").GetString().ShouldBe("broken");
        deliveries.Single().GetProperty("status").GetString().ShouldBe("skipped");
        var skipped = (await Stream(deliveries.Single().GetProperty("id").GetGuid())).OfType<DeliverySkipped>().Single();
        skipped.Reason.ShouldContain("cannot be evaluated");

        var (gary, tracked) = await Host.PublishTracked(HttpStatusCode.Accepted, DispatchSetup.Event(new { h_name = "Gary", h_email = "g@x", h_count = 1 }));
        (await Receiver.WaitFor(1)).Single().Text.ShouldContain("Gary");
        tracked.Deliveries().Where(d => d.EventId == gary.GetProperty("eventId").GetGuid()).Select(d => d.WebhookId)
            .ShouldHaveSingleItem("only-g matched; broken evaluated to false this time");
        Receiver.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task a_repeated_idempotency_key_returns_the_first_answer_and_delivers_nothing_again()
    {
        await Fixture.Hook("notify-crm", Receiver.Url);

        var (first, delivered) = await Host.PublishTracked(HttpStatusCode.Accepted, idempotencyKey: "order-42");
        await Receiver.WaitFor(1);
        delivered.Deliveries().ShouldHaveSingleItem("the tracked session sees deliveries scheduled, so its silence below means none");
        var (second, repeated) = await Host.PublishTracked(HttpStatusCode.Accepted, idempotencyKey: "order-42");
        repeated.Deliveries().Where(d => d.EventId == first.GetProperty("eventId").GetGuid()).ShouldBeEmpty("the repeat schedules nothing");

        second.GetProperty("eventId").GetGuid().ShouldBe(first.GetProperty("eventId").GetGuid());
        Receiver.Requests.Count.ShouldBe(1);

        var reused = await Host.Publish(HttpStatusCode.UnprocessableEntity, DispatchSetup.Event(new { h_name = "Other" }), idempotencyKey: "order-42");
        reused.GetProperty("type").GetString().ShouldBe("urn:webhooks:idempotency-key-reused");
    }

    [Fact]
    public async Task applications_publish_in_process_with_the_same_answer()
    {
        await Fixture.Hook("notify-crm", Receiver.Url);

        PublishResult result = null!;
        await Host.ExecuteAndWaitAsync(async () => result = await Host.MessageBus().InvokeAsync<PublishResult>(new PublishEntityEvent(
            DefinitionsSetup.Application, DefinitionsSetup.EventSource, "admin", null, null,
            JsonSerializer.SerializeToElement(DispatchSetup.Record))));

        result.Outcome.ShouldBe(PublishOutcome.Accepted);
        result.Deliveries.Single().Webhook.ShouldBe("notify-crm");
        (await Receiver.WaitFor(1)).Single().Header("webhook-id").ShouldBe(result.Deliveries.Single().Id.ToString());
    }

    [Fact]
    public async Task a_slow_target_does_not_hold_back_a_fast_one()
    {
        await using var slow = await Receiver.Start();
        slow.Respond = (_, _) => Task.Delay(TimeSpan.FromMilliseconds(800));
        await Fixture.Hook("slow", slow.Url);
        await Fixture.Hook("fast", Receiver.Url);

        for (var i = 0; i < 20; i++)
        {
            await Host.Scenario(s =>
            {
                s.WithKey(TestKeys.Publisher);
                s.Post.Json(DispatchSetup.Event()).ToUrl("/events");
                s.StatusCodeShouldBe(HttpStatusCode.Accepted);
            });
        }

        await Receiver.WaitFor(20, TimeSpan.FromSeconds(10));
        slow.Requests.Count.ShouldBeLessThan(20, "the fast target got all 20 while the slow one was still busy");
        await slow.WaitFor(20, TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// A delivery's events, in the order they were recorded: its creation in its published event's stream, its attempts
    /// and outcome in the ledgers of the commits that recorded them (issue 14).
    /// </summary>
    private async Task<List<object>> Stream(Guid deliveryId)
    {
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var streams = await session.AdvancedSql.QueryAsync<Guid>(
            "select distinct stream_id from webhooks.mt_events where data::text like ?", CancellationToken.None, $"%{deliveryId}%");
        var events = new List<JasperFx.Events.IEvent>();
        foreach (var stream in streams)
        {
            events.AddRange(await session.Events.FetchStreamAsync(stream));
        }

        return events.OrderBy(e => e.Sequence).Select(e => e.Data).Where(e => Delivery(e) == deliveryId).ToList();
    }

    private static Guid? Delivery(object data) => data switch
    {
        DeliveryScheduled e => e.DeliveryId,
        DeliverySkipped e => e.DeliveryId,
        DeliveryAttempted e => e.DeliveryId,
        DeliveryRetryScheduled e => e.DeliveryId,
        DeliverySucceeded e => e.DeliveryId,
        DeliveryFailed e => e.DeliveryId,
        _ => null,
    };

    private Task<List<object>> WaitUntil(Guid deliveryId, Type last) => Poll.Until(
        () => Stream(deliveryId), events => events.Any(e => e.GetType() == last), TimeSpan.FromSeconds(10),
        events => $"delivery {deliveryId} never reached {last.Name}; its events: {string.Join(", ", events.Select(e => e.GetType().Name))}");
}
