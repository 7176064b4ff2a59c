using System.Net;
using Alba;
using Npgsql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Refit;
using Webhooks.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

public sealed class when_reading_delivery_history(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task a_delivery_shows_every_attempt_with_authorization_redacted()
    {
        var key = await Fixture.CreatedKey(password: "never-in-history");
        Receiver.Respond = async (context, number) =>
        {
            context.Response.StatusCode = number == 1 ? 500 : 200;
            await context.Response.WriteAsync(number == 1 ? "boom" : "ok");
        };
        await Fixture.Hook("notify-crm", Receiver.Url, keyId: key.Id);

        var answer = await Host.Publish(HttpStatusCode.Accepted);
        var id = answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid();
        await Receiver.WaitFor(2);
        var delivery = await Eventually(() => Fixture.Client(TestKeys.Auditor).GetDelivery(id), d => d.Status == DeliveryStatuses.Succeeded);

        delivery.Webhook.ShouldBe("notify-crm");
        delivery.Attempts.Select(a => (a.Number, a.StatusCode, a.ResponseExcerpt)).ShouldBe([(1, (int?)500, "boom"), (2, 200, "ok")]);
        delivery.Attempts.ShouldAllBe(a => a.RequestHeaders["Authorization"] == "Basic [redacted]" && a.RequestHeaders["webhook-id"] == id.ToString());
        delivery.Attempts.ShouldAllBe(a => a.DurationMs >= 0);
        delivery.NextAttemptAt.ShouldBeNull();

        // The log is patched in place after its first write (issue 14): its indexed columns follow the document.
        await using (var columns = Host.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            "select status, attempt_count, duration_ms, next_attempt_at is null from webhooks.mt_doc_deliverylog where id = $1"))
        {
            columns.Parameters.Add(new NpgsqlParameter { Value = id });
            await using var row = await columns.ExecuteReaderAsync();
            (await row.ReadAsync()).ShouldBeTrue();
            (row.GetString(0), row.GetInt32(1), row.GetInt64(2), row.GetBoolean(3))
                .ShouldBe((DeliveryStatuses.Succeeded, 2, delivery.Attempts[1].DurationMs, true));
        }

        var published = await Fixture.Client(TestKeys.Auditor).GetEvent(answer.GetProperty("eventId").GetGuid());
        published.Verdict.ShouldBe("Accepted");
        published.Application.ShouldBe(DefinitionsSetup.Application);
        published.Deliveries.Single().Id.ShouldBe(id);
        published.ActionByName.ShouldBe("System Administrator");
        published.PublishedBy.ShouldBe(Roles.Publisher);
        published.Record!.Value.GetProperty("h_name").GetString().ShouldBe("Gary");
    }

    [Fact]
    public async Task deliveries_are_listed_newest_first_filtered_and_paged()
    {
        await using var other = await Receiver.Start();
        other.Respond = (context, _) =>
        {
            context.Response.StatusCode = 400;
            return Task.CompletedTask;
        };
        await Fixture.Hook("good", Receiver.Url);
        await Fixture.Hook("bad", other.Url, Webhooks.Definitions.Contracts.PostModes.Sync);
        var before = DateTimeOffset.UtcNow;
        var first = await Host.Publish(HttpStatusCode.OK);
        var second = await Host.Publish(HttpStatusCode.OK);
        await Receiver.WaitFor(2);

        var auditor = Fixture.Client(TestKeys.Auditor);
        var all = await Eventually(() => auditor.ListDeliveries(), p => p.Items.Count == 4 && p.Items.All(d => d.Status != DeliveryStatuses.Pending));
        all.Items.Select(d => d.Id).ShouldBe(all.Items.Select(d => d.Id).OrderByDescending(id => id.ToString()));
        (await auditor.ListDeliveries(webhook: "bad")).Items.ShouldAllBe(d => d.Webhook == "bad" && d.Status == DeliveryStatuses.Failed);
        (await auditor.ListDeliveries(status: "succeeded")).Items.Count.ShouldBe(2);
        (await auditor.ListDeliveries(eventId: first.GetProperty("eventId").GetGuid())).Items.Count.ShouldBe(2);
        (await auditor.ListDeliveries(from: before)).Items.Count.ShouldBe(4);
        (await auditor.ListDeliveries(until: before)).Items.ShouldBeEmpty();

        var page = await auditor.ListDeliveries(limit: 3);
        page.Items.Count.ShouldBe(3);
        var rest = await auditor.ListDeliveries(after: page.Next, limit: 3);
        rest.Items.Select(d => d.Id).ShouldBe([all.Items[3].Id]);
        rest.Next.ShouldBeNull();
        second.GetProperty("eventId").GetGuid().ShouldNotBe(first.GetProperty("eventId").GetGuid());
    }

    [Fact]
    public async Task a_failed_delivery_is_redelivered_with_the_same_webhook_id_to_a_receiver_that_now_answers_200()
    {
        Receiver.Respond = (context, number) =>
        {
            context.Response.StatusCode = number <= 4 ? 500 : 200;
            return Task.CompletedTask;
        };
        await Fixture.Hook("notify-crm", Receiver.Url);
        var answer = await Host.Publish(HttpStatusCode.Accepted);
        var id = answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid();
        await Eventually(() => Fixture.Client(TestKeys.Admin).GetDelivery(id), d => d.Status == DeliveryStatuses.Failed);

        var admin = Fixture.Client(TestKeys.Admin);
        (await admin.Redeliver(id)).Status.ShouldBe(DeliveryStatuses.Pending);
        var requests = await Receiver.WaitFor(5);

        requests[4].Header("webhook-id").ShouldBe(id.ToString());
        var delivery = await Eventually(() => admin.GetDelivery(id), d => d.Status == DeliveryStatuses.Succeeded);
        delivery.Attempts.Count.ShouldBe(5);
        delivery.Attempts[^1].StatusCode.ShouldBe(200);
    }

    [Fact]
    public async Task bad_requests_and_roles_get_problems()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        (await Should.ThrowAsync<ApiException>(() => admin.GetDelivery(Guid.NewGuid()))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Should.ThrowAsync<ApiException>(() => admin.GetEvent(Guid.NewGuid()))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Should.ThrowAsync<ApiException>(() => admin.Redeliver(Guid.NewGuid()))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Should.ThrowAsync<ApiException>(() => admin.ListDeliveries(status: "lost"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Should.ThrowAsync<ApiException>(() => admin.ListDeliveries(after: "bm9wZQ"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        Receiver.Respond = (_, _) => Task.Delay(TimeSpan.FromSeconds(3));
        await Fixture.Hook("slow", Receiver.Url);
        var answer = await Host.Publish(HttpStatusCode.Accepted);
        var id = answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid();
        (await Should.ThrowAsync<ApiException>(() => admin.Redeliver(id))).StatusCode.ShouldBe(HttpStatusCode.Conflict);

        var auditor = Fixture.Client(TestKeys.Auditor);
        (await auditor.GetDelivery(id)).Id.ShouldBe(id);
        (await Should.ThrowAsync<ApiException>(() => auditor.Redeliver(id))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Publisher).GetDelivery(id))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    /// <summary>Deliveries run on their own queue; read until the log shows what the test waits for (bounded).</summary>
    private static Task<T> Eventually<T>(Func<Task<T>> read, Func<T, bool> done) => Poll.Until(read, done, TimeSpan.FromSeconds(10));
}
