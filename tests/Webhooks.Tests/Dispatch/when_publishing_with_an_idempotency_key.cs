using System.Net;
using System.Text;
using System.Text.Json;
using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Publishing;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// An Idempotency-Key is atomic (issue 11): any number of concurrent publishes with one key and one body give one
/// event, delivered under one webhook-id, and the same answer to every caller. Before the fix, eight concurrent
/// publishes gave several events, each delivered under its own id.
/// </summary>
public sealed class when_publishing_with_an_idempotency_key(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task concurrent_publishes_of_an_async_event_make_one_event_and_one_answer()
    {
        await Fixture.Hook("async-once", Receiver.Url);

        var answers = await Concurrently(8, () => Send(Host, "order-7", DispatchSetup.Event()));

        answers.ShouldAllBe(a => a.Status == HttpStatusCode.Accepted);
        answers.Select(a => a.Body).Distinct().Count().ShouldBe(1, string.Join("\n", answers.Select(a => a.Body)));
        await Receiver.WaitFor(1);
        (await PublishedEvents(Host)).ShouldBe(1);
        Receiver.Requests.Select(r => r.Header("webhook-id")).Distinct().Count().ShouldBe(1);
    }

    [Fact]
    public async Task concurrent_publishes_with_a_sync_webhook_call_it_once()
    {
        Receiver.Respond = async (_, _) => await Task.Delay(300);
        await Fixture.Hook("sync-once", Receiver.Url, PostModes.Sync);

        var answers = await Concurrently(8, () => Send(Host, "order-8", DispatchSetup.Event()));

        answers.ShouldAllBe(a => a.Status == HttpStatusCode.OK);
        answers.Select(a => a.Body).Distinct().Count().ShouldBe(1);
        Receiver.Requests.Count.ShouldBe(1, "the sync webhook was called once");
        (await PublishedEvents(Host)).ShouldBe(1);
    }

    [Fact]
    public async Task the_same_record_with_its_fields_reordered_or_escaped_otherwise_is_a_repeat()
    {
        await Fixture.Hook("async-repeat", Receiver.Url);
        const string first = """{"application":"com.hornbill.servicemanager","eventSource":"contact-update","record":{"h_pk_id":"103","h_name":"Gary","nested":{"a":1,"b":[1,2]}}}""";
        const string reordered = """{"record":{"nested":{"b":[1,2],"a":1},"h_name":"\u0047ary","h_pk_id":"103"},"eventSource":"contact-update","application":"com.hornbill.servicemanager"}""";

        var one = await Send(Host, "order-9", first);
        var two = await Send(Host, "order-9", reordered);

        two.Status.ShouldBe(HttpStatusCode.Accepted, two.Body);
        two.Body.ShouldBe(one.Body);
        (await Send(Host, "order-9", first.Replace("Gary", "Mary", StringComparison.Ordinal))).Status
            .ShouldBe(HttpStatusCode.UnprocessableEntity, "another record under the same key is refused");
    }

    [Fact]
    public async Task a_key_past_its_24_hours_is_a_new_event_and_the_sweep_deletes_what_expired()
    {
        await Fixture.Hook("async-expiry", Receiver.Url);
        var first = await Send(Host, "order-10", DispatchSetup.Event());
        await ExpireAll();

        var again = await Send(Host, "order-10", DispatchSetup.Event(new { h_name = "Someone else" }));

        again.Status.ShouldBe(HttpStatusCode.Accepted, again.Body);
        again.Body.ShouldNotBe(first.Body);
        await ExpireAll();
        await Host.Services.GetRequiredService<IdempotencySweep>().Sweep(CancellationToken.None);
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.Query<IdempotentPublish>().CountAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task a_claim_its_host_left_lapses_and_the_key_is_taken_over()
    {
        await Fixture.Hook("async-lapse", Receiver.Url);
        await Claimed("order-11", DispatchSetup.Event(), TimeSpan.FromSeconds(1));

        var answer = await Send(Host, "order-11", DispatchSetup.Event());

        answer.Status.ShouldBe(HttpStatusCode.Accepted, answer.Body);
        (await PublishedEvents(Host)).ShouldBe(1);
    }

    [Fact]
    public async Task a_claim_still_held_elsewhere_is_a_409_with_retry_after()
    {
        await Fixture.Hook("async-held", Receiver.Url);
        await Claimed("order-12", DispatchSetup.Event(), TimeSpan.FromMinutes(1));

        using var client = Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = new StringContent(JsonSerializer.Serialize(DispatchSetup.Event()), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", TestKeys.Publisher);
        request.Headers.Add("Idempotency-Key", "order-12");
        using var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(1));
        (await response.Content.ReadAsStringAsync()).ShouldContain("urn:webhooks:idempotency-key-in-flight");
        (await PublishedEvents(Host)).ShouldBe(0);
    }

    /// <summary>A claim as another host (or one that died) leaves it: open, for the same event, lapsing after <paramref name="lease"/>.</summary>
    private async Task Claimed(string key, object body, TimeSpan lease)
    {
        var published = JsonSerializer.Deserialize<PublishEntityEvent>(JsonSerializer.Serialize(body), Webhooks.Client.WebhooksClient.JsonOptions)!;
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().LightweightSession();
        session.Insert(new IdempotentPublish
        {
            Id = IdempotentPublish.IdFor("publisher", key),
            Fingerprint = IdempotentPublish.FingerprintOf(published),
            Claim = Guid.NewGuid(),
            ExpiresAt = DateTimeOffset.UtcNow + lease,
        });
        await session.SaveChangesAsync();
    }

    [Fact]
    public void fingerprints_compare_canonical_json()
    {
        static string Of(string record) => IdempotentPublish.FingerprintOf(
            new PublishEntityEvent("crm", "updated", "me", null, null, JsonDocument.Parse(record).RootElement));

        Of("""{"a":1,"b":{"c":"x","d":[1,{"e":2,"f":3}]}}""").ShouldBe(Of("""{"b":{"d":[1,{"f":3,"e":2}],"c":"\u0078"},"a":1}"""));
        Of("""{"a":[1,2]}""").ShouldNotBe(Of("""{"a":[2,1]}"""), "array order is meaningful");
        Of("""{"a":"1"}""").ShouldNotBe(Of("""{"a":1}"""), "a string is not a number");
        IdempotentPublish.FingerprintOf(new PublishEntityEvent("crm", "updated", "me", null, null, JsonDocument.Parse("{}").RootElement))
            .ShouldNotBe(IdempotentPublish.FingerprintOf(new PublishEntityEvent("crm", "updated", "you", null, null, JsonDocument.Parse("{}").RootElement)));
    }

    internal static async Task<(HttpStatusCode Status, string Body)[]> Concurrently(int count, Func<Task<(HttpStatusCode Status, string Body)>> send)
    {
        using var start = new ManualResetEventSlim();
        var all = Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await send();
        })).ToList();
        start.Set();
        return await Task.WhenAll(all);
    }

    internal static Task<(HttpStatusCode Status, string Body)> Send(IAlbaHost host, string key, object body) =>
        Send(host, key, JsonSerializer.Serialize(body));

    internal static async Task<(HttpStatusCode Status, string Body)> Send(IAlbaHost host, string key, string body)
    {
        using var client = host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", TestKeys.Publisher);
        request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Moves every Idempotency-Key record past its expiry, as 24 hours would.</summary>
    private async Task ExpireAll()
    {
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().LightweightSession();
        var records = await session.Query<IdempotentPublish>().ToListAsync();
        records.ShouldNotBeEmpty();
        foreach (var record in records)
        {
            record.ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1);
            session.Store(record);
        }

        await session.SaveChangesAsync();
    }

    internal static async Task<int> PublishedEvents(IAlbaHost host)
    {
        await using var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        return await session.Events.QueryRawEventDataOnly<EventPublished>().CountAsync();
    }
}

/// <summary>The same across two hosts on one database: the loser of the race answers with the winner's answer.</summary>
[Collection(SharedHost.Name)]
public sealed class when_hosts_race_on_an_idempotency_key : IAsyncLifetime
{
    private Receiver receiver = null!;
    private IAlbaHost first = null!;
    private IAlbaHost second = null!;

    public async Task InitializeAsync()
    {
        receiver = await Receiver.Start();
        var settings = await AppFixture.OwnDatabase("idempotency");
        first = await AppFixture.StartHost(settings);
        second = await AppFixture.StartHost(settings);
        var admin = WebhooksClient.Create(first.Server.CreateClient(), TestKeys.Admin);
        await first.ExecuteAndWaitAsync(() => admin.RegisterEventSource(DefinitionsSetup.Application, DefinitionsSetup.EventSource,
            new RegisterEventSource("Contact", null, "update")));
        await first.ExecuteAndWaitAsync(() => admin.RegisterEventSource(DefinitionsSetup.Application, "contact-check",
            new RegisterEventSource("Contact", null, "update")));
        await first.ExecuteAndWaitAsync(() => admin.DefineWebhook(DefinitionsSetup.Webhook("async-hook") with { Url = receiver.Url.ToString() }));
        await first.ExecuteAndWaitAsync(() => admin.DefineWebhook(DefinitionsSetup.Webhook("sync-hook") with
        {
            EventSource = "contact-check",
            Url = receiver.Url.ToString(),
            PostMode = PostModes.Sync,
        }));
        // The second host learns the definitions from PostgreSQL's notification.
        await Poll.Until(
            async () => (await second.Scenario(s =>
            {
                s.WithKey(TestKeys.Publisher);
                s.Post.Json(new { application = DefinitionsSetup.Application, eventSource = "contact-check", record = new { probe = true } }).ToUrl("/events");
                s.IgnoreStatusCode();
            })).Context.Response.StatusCode,
            status => status == 200);
        receiver.Respond = async (context, _) => await Task.Delay(context.Request.Path.Value!.Contains("sync", StringComparison.Ordinal) ? 300 : 0);
    }

    public async Task DisposeAsync()
    {
        await second.DisposeAsync();
        await first.DisposeAsync();
        await receiver.DisposeAsync();
    }

    [Fact]
    public async Task async_publishes_on_both_hosts_make_one_event()
    {
        var before = await when_publishing_with_an_idempotency_key.PublishedEvents(first);
        var turn = 0;
        var answers = await when_publishing_with_an_idempotency_key.Concurrently(8, () =>
            when_publishing_with_an_idempotency_key.Send(Interlocked.Increment(ref turn) % 2 == 0 ? first : second, "cross-1", DispatchSetup.Event()));

        answers.ShouldAllBe(a => a.Status == HttpStatusCode.Accepted, string.Join("\n", answers.Select(a => a.Body)));
        answers.Select(a => a.Body).Distinct().Count().ShouldBe(1, string.Join("\n", answers.Select(a => a.Body)));
        (await when_publishing_with_an_idempotency_key.PublishedEvents(first)).ShouldBe(before + 1);
    }

    [Fact]
    public async Task one_key_sent_with_two_bodies_to_two_hosts_is_one_event_and_the_key_stays_usable()
    {
        var before = await when_publishing_with_an_idempotency_key.PublishedEvents(first);
        var turn = 0;
        var answers = await when_publishing_with_an_idempotency_key.Concurrently(8, () =>
        {
            var mine = Interlocked.Increment(ref turn) % 2 == 0;
            return when_publishing_with_an_idempotency_key.Send(mine ? first : second, "cross-3",
                DispatchSetup.Event(new { h_pk_id = mine ? "1" : "2" }));
        });

        answers.Select(a => a.Status).Distinct().Order().ToList().ShouldBe([HttpStatusCode.Accepted, HttpStatusCode.UnprocessableEntity],
            customMessage: string.Join("\n", answers.Select(a => $"{a.Status} {a.Body}")));
        (await when_publishing_with_an_idempotency_key.PublishedEvents(first)).ShouldBe(before + 1);

        // Neither host is left holding the key: each answers at once, the repeat or the refusal, never 409 in flight.
        foreach (var host in new[] { first, second })
        {
            var one = await when_publishing_with_an_idempotency_key.Send(host, "cross-3", DispatchSetup.Event(new { h_pk_id = "1" }));
            var two = await when_publishing_with_an_idempotency_key.Send(host, "cross-3", DispatchSetup.Event(new { h_pk_id = "2" }));
            new[] { one.Status, two.Status }.Order().ToList().ShouldBe([HttpStatusCode.Accepted, HttpStatusCode.UnprocessableEntity], customMessage: $"{one.Body}\n{two.Body}");
        }
    }

    [Fact]
    public async Task sync_publishes_on_both_hosts_call_the_webhook_once()
    {
        var before = await when_publishing_with_an_idempotency_key.PublishedEvents(first);
        var callsBefore = receiver.Requests.Count;
        var turn = 0;
        var body = new { application = DefinitionsSetup.Application, eventSource = "contact-check", record = DispatchSetup.Record };
        var answers = await when_publishing_with_an_idempotency_key.Concurrently(8, () =>
            when_publishing_with_an_idempotency_key.Send(Interlocked.Increment(ref turn) % 2 == 0 ? first : second, "cross-2", body));

        answers.ShouldAllBe(a => a.Status == HttpStatusCode.OK, string.Join("\n", answers.Select(a => a.Body)));
        answers.Select(a => a.Body).Distinct().Count().ShouldBe(1);
        (receiver.Requests.Count - callsBefore).ShouldBe(1, "one host called the sync webhook; the other waited for its answer");
        (await when_publishing_with_an_idempotency_key.PublishedEvents(first)).ShouldBe(before + 1);
    }
}
