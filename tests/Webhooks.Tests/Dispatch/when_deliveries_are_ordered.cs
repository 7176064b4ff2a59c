using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Flow;
using Microsoft.AspNetCore.Http;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// Issue 15: ordered delivery. Deliveries with the same key (the record's h_pk_id by default) reach the target in
/// publish order, one at a time; a failing one holds back the later ones of its key, not of other keys, until it
/// succeeds or fails for good; and so across two hosts on one database.
/// </summary>
public sealed class when_deliveries_are_ordered(AppFixture fixture) : ReceiverTest(fixture)
{
    /// <summary>What the receiver saw: each call's key, number and status, and the most calls of one key at once.</summary>
    private sealed class Observed
    {
        private readonly ConcurrentDictionary<string, int> inFlight = new();
        public ConcurrentQueue<(string Key, int N, int Status)> Calls { get; } = new();
        public int MostAtOnce;

        public async Task Respond(HttpContext context, Func<string, int, int, int> status)
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            var record = body.RootElement.GetProperty("onEntityEvent").GetProperty("record");
            var (key, n) = (record.GetProperty("h_pk_id").GetString()!, record.GetProperty("n").GetInt32());
            var now = inFlight.AddOrUpdate(key, 1, (_, count) => count + 1);
            lock (this)
            {
                MostAtOnce = Math.Max(MostAtOnce, now);
            }

            await Task.Delay(20);
            var seen = Calls.Count(c => c.Key == key && c.N == n);
            context.Response.StatusCode = status(key, n, seen);
            Calls.Enqueue((key, n, context.Response.StatusCode));
            inFlight.AddOrUpdate(key, 0, (_, count) => count - 1);
        }

        public List<int> Delivered(string key) => Calls.Where(c => c.Key == key && c.Status == 200).Select(c => c.N).ToList();
    }

    private static object Event(string key, int n) => DispatchSetup.Event(new { h_pk_id = key, n, h_name = "Gary" });

    private static async Task<WebhookDefinition> Ordered(IAlbaHost host, Uri url, string? key = null)
    {
        WebhookDefinition webhook = null!;
        var admin = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Admin);
        await host.ExecuteAndWaitAsync(async () => webhook = await admin.DefineWebhook(
            DefinitionsSetup.Webhook("ordered") with { Url = url.ToString(), Ordering = new Ordering(true, key) }));
        return webhook;
    }

    [Fact]
    public async Task a_failing_delivery_holds_back_the_later_ones_of_its_key_only()
    {
        var observed = new Observed();
        // The first of key A fails twice, then goes through.
        Receiver.Respond = (context, _) => observed.Respond(context, (key, n, seen) => key == "A" && n == 1 && seen < 2 ? 500 : 200);
        (await Ordered(Host, Receiver.Url)).Ordering!.Enabled.ShouldBeTrue();

        var ids = new List<Guid>();
        foreach (var (key, n) in new[] { ("A", 1), ("A", 2), ("A", 3), ("B", 1), ("B", 2) })
        {
            ids.Add((await Host.Publish(HttpStatusCode.Accepted, Event(key, n))).GetProperty("deliveries")[0].GetProperty("id").GetGuid());
        }

        await Poll.Until(() => Task.FromResult(observed.Delivered("A").Count + observed.Delivered("B").Count), c => c == 5, TimeSpan.FromSeconds(20));
        observed.Delivered("A").ShouldBe([1, 2, 3]);
        observed.Delivered("B").ShouldBe([1, 2]);
        observed.MostAtOnce.ShouldBe(1, "one at a time per key");
        var calls = observed.Calls.ToList();
        calls.FindIndex(c => c.Key == "B" && c.N == 2).ShouldBeLessThan(calls.FindIndex(c => c.Key == "A" && c.Status == 200),
            "key B did not wait for key A's failing delivery");
        var auditor = Fixture.Client(TestKeys.Auditor);
        foreach (var id in ids)
        {
            var delivery = await Poll.Until(() => auditor.GetDelivery(id), d => d.Status != DeliveryStatuses.Pending);
            delivery.Status.ShouldBe(DeliveryStatuses.Succeeded);
            delivery.Reason.ShouldBeNull();
        }
    }

    [Fact]
    public async Task a_delivery_that_fails_for_good_lets_the_next_of_its_key_go()
    {
        var observed = new Observed();
        Receiver.Respond = (context, _) => observed.Respond(context, (key, n, _) => n == 1 ? 500 : 200);
        await Ordered(Host, Receiver.Url, key: "h_pk_id");

        var first = (await Host.Publish(HttpStatusCode.Accepted, Event("A", 1))).GetProperty("deliveries")[0].GetProperty("id").GetGuid();
        var second = (await Host.Publish(HttpStatusCode.Accepted, Event("A", 2))).GetProperty("deliveries")[0].GetProperty("id").GetGuid();

        var auditor = Fixture.Client(TestKeys.Auditor);
        var failed = await Poll.Until(() => auditor.GetDelivery(first), d => d.Status == DeliveryStatuses.Failed, TimeSpan.FromSeconds(20));
        failed.Attempts.Count.ShouldBe(4);
        var next = await Poll.Until(() => auditor.GetDelivery(second), d => d.Status == DeliveryStatuses.Succeeded, TimeSpan.FromSeconds(20));
        next.Attempts.Single().At.ShouldBeGreaterThan(failed.Attempts[^1].At, "it waited for the first to fail for good");
        observed.Calls.Select(c => c.N).ShouldBe([1, 1, 1, 1, 2]);
    }

    [Fact]
    public async Task failing_the_parked_head_at_an_enabling_lets_the_rest_of_its_key_go()
    {
        var observed = new Observed();
        var failing = true;
        Receiver.Respond = (context, _) => observed.Respond(context, (_, _, _) => failing ? 500 : 200);
        await Ordered(Host, Receiver.Url);
        var admin = Fixture.Client(TestKeys.Admin);
        var auditor = Fixture.Client(TestKeys.Auditor);
        var head = (await Host.Publish(HttpStatusCode.Accepted, Event("A", 1))).GetProperty("deliveries")[0].GetProperty("id").GetGuid();
        var next = (await Host.Publish(HttpStatusCode.Accepted, Event("A", 2))).GetProperty("deliveries")[0].GetProperty("id").GetGuid();
        await Poll.Until(() => Task.FromResult(observed.Calls.Count), c => c >= 1);

        // Disabled while the head retries: its retry parks; the next waits behind it.
        await Host.ExecuteAndWaitAsync(() => admin.DisableWebhook("ordered", reason: "maintenance"));
        await Poll.Until(() => auditor.GetDelivery(head), d => d.Reason?.StartsWith("Waiting: the webhook is disabled", StringComparison.Ordinal) == true,
            TimeSpan.FromSeconds(10));
        failing = false;
        await admin.EnableWebhook("ordered", pending: PendingOnEnable.Fail);

        (await Poll.Until(() => auditor.GetDelivery(head), d => d.Status != DeliveryStatuses.Pending)).Status.ShouldBe(DeliveryStatuses.Failed);
        (await Poll.Until(() => auditor.GetDelivery(next), d => d.Status != DeliveryStatuses.Pending, TimeSpan.FromSeconds(15)))
            .Status.ShouldBe(DeliveryStatuses.Succeeded);
        observed.Delivered("A").ShouldBe([2]);
    }

    [Fact]
    public async Task records_without_the_key_are_not_held_back()
    {
        // The records have no h_region: the first one's failures must not hold the second one back.
        var observed = new Observed();
        Receiver.Respond = (context, _) => observed.Respond(context, (_, n, seen) => n == 1 && seen < 2 ? 500 : 200);
        await Ordered(Host, Receiver.Url, key: "h_region");

        await Host.Publish(HttpStatusCode.Accepted, Event("A", 1));
        await Host.Publish(HttpStatusCode.Accepted, Event("A", 2));

        await Poll.Until(() => Task.FromResult(observed.Delivered("A")), d => d.Count == 2, TimeSpan.FromSeconds(15));
        observed.Delivered("A").ShouldBe([2, 1], "unordered: the second went while the first was being retried");
    }

    [Fact]
    public async Task two_hosts_keep_each_keys_order()
    {
        var settings = await AppFixture.OwnDatabase("ordered");
        await using var first = await AppFixture.StartHost(settings);
        await using var second = await AppFixture.StartHost(settings);
        var observed = new Observed();
        // Each key's first call fails once: the later ones must wait for it.
        Receiver.Respond = (context, _) => observed.Respond(context, (_, n, seen) => n == 1 && seen == 0 ? 503 : 200);
        await first.Define(DefinitionsSetup.Webhook("ordered") with { Url = Receiver.Url.ToString(), Ordering = new Ordering(true) });
        await Poll.Until(async () => (await Publish(second, "warm-up", 1)), n => n == 1, TimeSpan.FromSeconds(5), every: TimeSpan.FromMilliseconds(100));

        var keys = new[] { "K1", "K2", "K3" };
        for (var n = 1; n <= 4; n++)
        {
            foreach (var key in keys)
            {
                await Publish(n % 2 == 0 ? first : second, key, n);
            }
        }

        await Poll.Until(() => Task.FromResult(keys.Sum(k => observed.Delivered(k).Count)), c => c == 12, TimeSpan.FromSeconds(30));
        foreach (var key in keys)
        {
            observed.Delivered(key).ShouldBe([1, 2, 3, 4], key);
        }

        observed.MostAtOnce.ShouldBe(1);
    }

    /// <summary>
    /// After a crash the same delivery can be handled twice (the batch that made it and the one it stepped aside into,
    /// both recovered). A copy that comes after the delivery left its key's queue is not sent: it would pass the next.
    /// </summary>
    [Fact]
    public async Task a_copy_of_an_ordered_delivery_that_already_left_its_queue_is_not_sent_again()
    {
        var observed = new Observed();
        Receiver.Respond = (context, _) => observed.Respond(context, (_, _, _) => 200);
        await Ordered(Host, Receiver.Url);
        var (_, tracked) = await Poll.Until(() => Host.PublishTracked(HttpStatusCode.Accepted, Event("K", 1)), p => p.Tracked.Deliveries().Count == 1);
        var delivery = tracked.Deliveries().Single();
        delivery.Ordered.ShouldBeTrue();
        await Poll.Until(() => Fixture.Client(TestKeys.Auditor).GetDelivery(delivery.DeliveryId), d => d.Status == DeliveryStatuses.Succeeded);

        await Host.ExecuteAndWaitAsync(context => context.PublishAsync(delivery).AsTask());

        observed.Calls.Count.ShouldBe(1, "the copy was not sent");
        (await Fixture.Client(TestKeys.Auditor).GetDelivery(delivery.DeliveryId)).Attempts.Count.ShouldBe(1);
    }

    /// <summary>
    /// Two commits sharing keys must not deadlock (PostgreSQL would abort one a second later): a commit takes its keys'
    /// locks in one global order, whatever order its events were published in. Here a commit joins keys published
    /// high-then-low while another transaction holds the low one: it waits for it before taking the high one, so a
    /// third transaction can take the high one meanwhile (taking them in publish order, the commit would hold it).
    /// </summary>
    [Fact]
    public async Task commits_take_their_keys_locks_in_one_order()
    {
        var ordered = Host.Services.GetRequiredService<OrderedDeliveries>();
        var database = Host.Services.GetRequiredService<NpgsqlDataSource>();
        var webhook = Guid.NewGuid();
        var (low, high) = OrderedDeliveries.LockOf(webhook, "a") < OrderedDeliveries.LockOf(webhook, "b") ? ("a", "b") : ("b", "a");

        await using var holder = await database.OpenConnectionAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await Sql(holder, $"select pg_advisory_xact_lock({OrderedDeliveries.LockOf(webhook, low)})");

        await using var session = Host.Services.GetRequiredService<IDocumentStore>().LightweightSession();
        session.QueueSqlCommand("set local lock_timeout = '20s'"); // the commit's own work (a publish's events), and a bound
        ordered.Enqueue(session, new DeliverWebhook(Guid.NewGuid(), Guid.NewGuid(), webhook, 1, [1], Ordered: true), high);
        ordered.Enqueue(session, new DeliverWebhook(Guid.NewGuid(), Guid.NewGuid(), webhook, 1, [2], Ordered: true), low);
        var saving = session.SaveChangesAsync();
        // The commit waits for the low key's lock itself (a bigint advisory lock: classid holds its high half, objid its low).
        var lowLock = OrderedDeliveries.LockOf(webhook, low);
        await Poll.Until(
            async () => await Scalar(database,
                $"select count(*) from pg_locks where locktype = 'advisory' and not granted and objsubid = 1 " +
                $"and classid = {(uint)(lowLock >> 32)} and objid = {(uint)(lowLock & 0xFFFFFFFF)}"),
            waiting => waiting > 0, TimeSpan.FromSeconds(10));

        await using (var other = await database.OpenConnectionAsync())
        {
            await using var taking = await other.BeginTransactionAsync();
            await Sql(other, "set local lock_timeout = '2s'");
            await Sql(other, $"select pg_advisory_xact_lock({OrderedDeliveries.LockOf(webhook, high)})"); // not held by the waiting commit
            await taking.CommitAsync();
        }

        saving.IsCompleted.ShouldBeFalse("the commit waits for the key held by another transaction");
        await holding.CommitAsync();
        await saving;
        (await Scalar(database, $"select count(*) from webhooks.{OrderedDeliveries.TableName} where webhook_id = '{webhook}'")).ShouldBe(2);
        await using var cleanup = database.CreateCommand($"delete from webhooks.{OrderedDeliveries.TableName} where webhook_id = '{webhook}'");
        await cleanup.ExecuteNonQueryAsync();

        static async Task Sql(NpgsqlConnection connection, string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        static async Task<long> Scalar(NpgsqlDataSource database, string sql)
        {
            await using var command = database.CreateCommand(sql);
            return (long)(await command.ExecuteScalarAsync())!;
        }
    }

    private static async Task<int> Publish(IAlbaHost host, string key, int n)
    {
        var result = await host.Scenario(s =>
        {
            s.WithKey(TestKeys.Publisher);
            s.Post.Json(Event(key, n)).ToUrl("/events");
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("deliveries").GetArrayLength();
    }
}
