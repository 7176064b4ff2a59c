using System.Net;
using System.Text;
using System.Text.Json;
using Alba;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Publishing;
using Webhooks.Tests.Infrastructure;
using Wolverine;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// <c>POST /events/batch</c> (issue 14): each event published as <c>POST /events</c> would publish it, answered in
/// order with the status it would have had, every event that goes ahead recorded in one commit.
/// </summary>
public sealed class when_publishing_a_batch(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task each_event_gets_its_own_result_in_order_and_a_refused_one_does_not_stop_the_others()
    {
        await Fixture.Hook("batch-async", Receiver.Url);

        var (results, tracked) = await PublishBatch(
            DispatchSetup.Event(new { h_pk_id = "1" }),
            new { application = DefinitionsSetup.Application, eventSource = "no-such-source", record = new { } },
            new { application = DefinitionsSetup.Application, eventSource = DefinitionsSetup.EventSource },
            new { application = "nobody", eventSource = "x", record = new { } },
            DispatchSetup.Event(new { h_pk_id = "2" }));

        results.Select(r => r.GetProperty("status").GetInt32()).ShouldBe([202, 400, 400, 404, 202]);
        results[1].GetProperty("errors").GetProperty("eventSource")[0].GetString()!.ShouldContain("no-such-source");
        results[2].GetProperty("errors").GetProperty("record").GetArrayLength().ShouldBe(1);
        results[3].GetProperty("detail").GetString()!.ShouldContain("nobody");
        results[3].GetProperty("type").GetString().ShouldNotBeNull();
        results[0].GetProperty("eventId").GetGuid().ShouldNotBe(results[4].GetProperty("eventId").GetGuid());
        results[0].GetProperty("deliveries")[0].GetProperty("status").GetString().ShouldBe(DeliveryStatuses.Pending);
        results[1].TryGetProperty("eventId", out _).ShouldBeFalse("a refused event has no id");

        await Receiver.WaitFor(2);
        Receiver.Requests.Select(r => JsonDocument.Parse(r.Text).RootElement.GetProperty("onEntityEvent").GetProperty("record").GetProperty("h_pk_id").GetString())
            .Order().ShouldBe(["1", "2"]);
        tracked.Deliveries().Count.ShouldBe(2);
        (await when_publishing_with_an_idempotency_key.PublishedEvents(Host)).ShouldBe(2);
    }

    [Fact]
    public async Task a_veto_and_a_warning_are_results_with_what_the_webhook_said()
    {
        Receiver.Respond = async (context, _) =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            if (body.RootElement.GetProperty("onEntityEvent").GetProperty("record").GetProperty("h_name").GetString() == "Mallory")
            {
                context.Response.StatusCode = 403;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("Mallory may not be saved.");
            }
        };
        await Fixture.Hook("batch-critical", Receiver.Url, PostModes.SyncCritical);

        var (results, _) = await PublishBatch(
            DispatchSetup.Event(new { h_pk_id = "3", h_name = "Alice" }),
            DispatchSetup.Event(new { h_pk_id = "4", h_name = "Mallory" }));

        results[0].GetProperty("status").GetInt32().ShouldBe(200);
        results[0].GetProperty("allowed").GetBoolean().ShouldBeTrue();
        results[1].GetProperty("status").GetInt32().ShouldBe(422);
        results[1].GetProperty("type").GetString().ShouldBe(PublishEndpoint.RejectedType);
        results[1].GetProperty("detail").GetString().ShouldBe("Mallory may not be saved.");
        results[1].GetProperty("webhook").GetString().ShouldBe("batch-critical");
        results[1].GetProperty("statusCode").GetInt32().ShouldBe(403);
        results[1].GetProperty("eventId").GetGuid().ShouldNotBe(Guid.Empty);
        results[1].GetProperty("deliveries")[0].GetProperty("status").GetString().ShouldBe(DeliveryStatuses.Failed);
        (await when_publishing_with_an_idempotency_key.PublishedEvents(Host)).ShouldBe(2, "a vetoed event is recorded too, as POST /events records it");
    }

    [Fact]
    public async Task idempotency_keys_hold_per_event_within_a_batch_and_across_batches()
    {
        await Fixture.Hook("batch-keys", Receiver.Url);
        object[] batch =
        [
            Keyed("k-1", DispatchSetup.Event(new { h_pk_id = "5" })),
            Keyed("k-2", DispatchSetup.Event(new { h_pk_id = "6" })),
            Keyed("k-1", DispatchSetup.Event(new { h_pk_id = "5" })),
            Keyed("k-2", DispatchSetup.Event(new { h_pk_id = "other" })),
        ];

        var (first, _) = await PublishBatch(batch);
        var (again, _) = await PublishBatch(batch);

        first.Select(r => r.GetProperty("status").GetInt32()).ShouldBe([202, 202, 202, 422]);
        first[2].GetProperty("eventId").GetGuid().ShouldBe(first[0].GetProperty("eventId").GetGuid(), "one key in one batch is one event");
        first[3].GetProperty("type").GetString().ShouldBe(Idempotency.ReusedType);
        again.Select(r => r.GetRawText()).ShouldBe(first.Select(r => r.GetRawText()), "the whole batch sent again is answered as before");
        await Receiver.WaitFor(2);
        (await when_publishing_with_an_idempotency_key.PublishedEvents(Host)).ShouldBe(2);

        // A single POST /events with the key gets the batch's answer for it.
        var single = await when_publishing_with_an_idempotency_key.Send(Host, "k-2", DispatchSetup.Event(new { h_pk_id = "6" }));
        single.Status.ShouldBe(HttpStatusCode.Accepted);
        JsonDocument.Parse(single.Body).RootElement.GetProperty("eventId").GetGuid().ShouldBe(first[1].GetProperty("eventId").GetGuid());
    }

    [Fact]
    public async Task an_event_over_the_size_limit_is_its_own_413()
    {
        await Fixture.Hook("batch-size", Receiver.Url);

        var (results, _) = await PublishBatch(
            DispatchSetup.Event(new { h_blob = new string('x', 20_000) }),
            DispatchSetup.Event(new { h_pk_id = "7" }));

        results[0].GetProperty("status").GetInt32().ShouldBe(413);
        results[0].GetProperty("detail").GetString()!.ShouldContain("16384");
        results[1].GetProperty("status").GetInt32().ShouldBe(202);
    }

    [Theory]
    [InlineData("""{"events":[]}""", "events")]
    [InlineData("""{}""", "events")]
    [InlineData("""{"events":[null]}""", "events[0]")]
    public async Task a_malformed_batch_is_a_400_and_publishes_nothing(string body, string field)
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Publisher);
            s.Post.Text(body).ToUrl("/events/batch");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });

        (await result.Problem()).FieldErrors(field).ShouldNotBeEmpty();
        (await when_publishing_with_an_idempotency_key.PublishedEvents(Host)).ShouldBe(0);
    }

    [Fact]
    public async Task more_than_a_thousand_events_is_a_400_and_a_body_over_the_limit_a_413()
    {
        var tooMany = JsonSerializer.Serialize(new { events = Enumerable.Range(0, 1001).Select(_ => DispatchSetup.Event()).ToArray() });
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Publisher);
            s.Post.Text(tooMany).ToUrl("/events/batch");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });
        (await result.Problem()).FieldErrors("events")[0].ShouldContain("1000");

        using var client = Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events/batch") { Content = new ByteArrayContent(new byte[8_388_609]) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Authorization = new("Bearer", TestKeys.Publisher);
        using var response = await client.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).ShouldContain("MaxBatchBytes");
        (await when_publishing_with_an_idempotency_key.PublishedEvents(Host)).ShouldBe(0);
    }

    [Fact]
    public async Task only_publishers_may_send_a_batch_and_a_limited_one_only_for_its_application()
    {
        var body = JsonSerializer.Serialize(new { events = new[] { DispatchSetup.Event() } });
        foreach (var (key, status) in new (string?, HttpStatusCode)[]
                 {
                     (null, HttpStatusCode.Unauthorized), (TestKeys.Admin, HttpStatusCode.Forbidden), (TestKeys.Auditor, HttpStatusCode.Forbidden),
                 })
        {
            await Host.Scenario(s =>
            {
                if (key is not null)
                {
                    s.WithKey(key);
                }

                s.Post.Text(body).ToUrl("/events/batch");
                s.WithRequestHeader("Content-Type", "application/json");
                s.StatusCodeShouldBe(status);
            });
        }

        var limited = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.LimitedPublisher);
            s.Post.Text(body).ToUrl("/events/batch");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.OK);
        });
        var result = (await limited.ReadAsJsonAsync<JsonElement>()).GetProperty("results")[0];
        result.GetProperty("status").GetInt32().ShouldBe(403);
        result.GetProperty("detail").GetString()!.ShouldContain(DefinitionsSetup.Application);
        (await when_publishing_with_an_idempotency_key.PublishedEvents(Host)).ShouldBe(0);
    }

    [Fact]
    public async Task in_process_and_through_the_sdk_the_answer_is_the_same()
    {
        await Fixture.Hook("batch-sdk", Receiver.Url);
        var record = JsonSerializer.SerializeToElement(new { h_pk_id = "8" });
        var events = new PublishEntityEvents([
            new(DefinitionsSetup.Application, DefinitionsSetup.EventSource, "admin", null, null, record),
            new(DefinitionsSetup.Application, "no-such-source", "admin", null, null, record),
        ]);

        var inProcess = await Host.MessageBus().InvokeAsync<PublishBatchResponse>(events);
        var sdk = await WebhooksClient.Create(Host.Server.CreateClient(), TestKeys.Publisher).PublishEvents(events);

        foreach (var answer in new[] { inProcess, sdk })
        {
            answer.Results.Select(r => r.Status).ShouldBe([202, 400]);
            answer.Results[0].EventId.ShouldNotBeNull();
            answer.Results[0].Deliveries!.Single().Webhook.ShouldBe("batch-sdk");
            answer.Results[1].Extensions!["errors"].GetProperty("eventSource").GetArrayLength().ShouldBe(1);
        }

        await Should.ThrowAsync<PublishRefusedException>(() =>
            Host.MessageBus().InvokeAsync<PublishBatchResponse>(new PublishEntityEvents([])));
        await Receiver.WaitFor(2);
    }

    private static Dictionary<string, JsonElement> Keyed(string key, object body) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(body))!
            .Append(new("idempotencyKey", JsonSerializer.SerializeToElement(key))).ToDictionary();

    private async Task<(JsonElement[] Results, ITrackedSession Tracked)> PublishBatch(params object[] events)
    {
        IScenarioResult result = null!;
        var tracked = await Host.ExecuteAndWaitAsync(async () => result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Publisher);
            s.Post.Json(new { events }).ToUrl("/events/batch");
            s.StatusCodeShouldBe(HttpStatusCode.OK);
        }));
        var results = (await result.ReadAsJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray().ToArray();
        results.Length.ShouldBe(events.Length);
        return (results, tracked);
    }
}
