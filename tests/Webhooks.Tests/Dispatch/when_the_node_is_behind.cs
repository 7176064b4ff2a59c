using System.Net;
using System.Text.Json;
using Alba;
using Microsoft.Extensions.Logging;
using Npgsql;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// Back pressure and readiness (issue 11): a node whose delivery backlog passes <c>MaxBacklog</c> refuses publishes
/// that would add deliveries with 503 and Retry-After, and takes them again once it caught up; a stage of the pipeline
/// that makes no progress while work waits fails <c>/health/ready</c> until it moves. A host of its own per test.
/// </summary>
[Collection(SharedHost.Name)]
#pragma warning disable CA1001 // disposed in DisposeAsync
public sealed class when_the_node_is_behind : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly CapturedLogs logs = new();
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Receiver receiver = null!;
    private IAlbaHost host = null!;
    private string connection = null!;

    public async Task InitializeAsync()
    {
        receiver = await Receiver.Start();
        receiver.Respond = async (_, _) => await released.Task;
        connection = await TestDatabase.Fresh("behind");
        host = await AppFixture.StartHost(
            new Dictionary<string, string>
            {
                ["ConnectionStrings:Webhooks"] = connection,
                [$"Webhooks:KeySafe:MasterKeys:{AppFixture.MasterKeyId}"] = AppFixture.MasterKey,
                ["Webhooks:Dispatch:MaxBacklog"] = "5",
                // Two calls at a time to the held receiver: the other deliveries step aside and come back.
                ["Webhooks:Dispatch:MaxConcurrencyPerTarget"] = "2",
                ["Webhooks:Dispatch:StallTimeout"] = "00:00:02",
            },
            logs);
        var admin = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Admin);
        await host.ExecuteAndWaitAsync(() => admin.RegisterEventSource(DefinitionsSetup.Application, DefinitionsSetup.EventSource,
            new RegisterEventSource("Contact", null, "update")));
        await host.ExecuteAndWaitAsync(() => admin.RegisterEventSource(DefinitionsSetup.Application, "unwatched",
            new RegisterEventSource("Contact", null, "update")));
        await host.ExecuteAndWaitAsync(() => admin.DefineWebhook(DefinitionsSetup.Webhook("slow") with { Url = receiver.Url.ToString() }));
    }

    public async Task DisposeAsync()
    {
        released.TrySetResult();
        await host.DisposeAsync();
        await receiver.DisposeAsync();
        logs.Dispose();
    }

    [Fact]
    public async Task publishes_that_add_deliveries_wait_with_503_and_retry_after_until_the_backlog_drains()
    {
        var errorsBefore = logs.Lines.Count(l => l.StartsWith("Error", StringComparison.Ordinal));
        var publishedBefore = await Published();
        var accepted = 0;
        HttpResponseMessage refused = null!;
        for (var i = 0; i < 200 && refused is null; i++)
        {
            var response = await Publish(DefinitionsSetup.EventSource);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                accepted++;
            }
            else
            {
                refused = response;
            }
        }

        refused.ShouldNotBeNull("the backlog passed MaxBacklog while the receiver held every call");
        refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        refused.Headers.RetryAfter!.Delta!.Value.ShouldBeInRange(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        problem.GetProperty("type").GetString().ShouldBe("urn:webhooks:overloaded");
        problem.GetProperty("detail").GetString()!.ShouldContain("MaxBacklog");
        // Each accepted publish recorded its event; the refused one left nothing.
        (await Published()).ShouldBe(publishedBefore + accepted);

        (await Publish("unwatched")).StatusCode.ShouldBe(HttpStatusCode.Accepted, "a publish that adds no delivery is not held back");
        await Poll.Until(SteppedAside, n => n > 0, TimeSpan.FromSeconds(10));

        released.TrySetResult();
        await Poll.Until(() => Publish(DefinitionsSetup.EventSource), r => r.StatusCode == HttpStatusCode.Accepted, TimeSpan.FromSeconds(30), r => r.StatusCode.ToString());
        await receiver.WaitFor(accepted + 1, TimeSpan.FromSeconds(30));

        // Deliveries stepped aside for the per-target limit all along: normal flow control, never an error line.
        logs.Lines.Count(l => l.StartsWith("Error", StringComparison.Ordinal)).ShouldBe(errorsBefore,
            string.Join("\n", logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task the_deliveries_of_a_batch_that_find_their_target_full_step_aside_together_and_are_each_made_once()
    {
        receiver.Respond = (_, _) => Task.Delay(TimeSpan.FromMilliseconds(300));
        var admin = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Admin);
        for (var i = 1; i < 5; i++)
        {
            await host.ExecuteAndWaitAsync(() => admin.DefineWebhook(DefinitionsSetup.Webhook($"slow-{i}") with { Url = receiver.Url.ToString() }));
        }

        // One event, five deliveries in one batch; the slow target takes two calls at a time, the three others find it
        // full and step aside together, as one durable message (and so on until all are made).
        var published = JsonDocument.Parse(await (await Publish(DefinitionsSetup.EventSource)).Content.ReadAsStringAsync()).RootElement;
        var ids = published.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()).ToList();
        ids.Count.ShouldBe(5);
        await receiver.WaitFor(5, TimeSpan.FromSeconds(30));

        var auditor = WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Auditor);
        foreach (var id in ids)
        {
            var delivery = await Poll.Until(() => auditor.GetDelivery(id), d => d.Status == "succeeded", TimeSpan.FromSeconds(10), d => d.Status);
            delivery.Attempts.Count.ShouldBe(1, "each delivery made once");
        }

        receiver.Requests.Count.ShouldBe(5, await Envelopes());
        (await Count("select count(*) from wolverine.wolverine_incoming_envelopes where message_type like '%DeliverWebhooks'"))
            .ShouldBeGreaterThanOrEqualTo(2, "the first attempts, then those that found the target full, together: " + await Envelopes());
    }

    [Fact]
    public async Task readiness_fails_while_the_group_commit_makes_no_progress_and_recovers_when_it_moves()
    {
        (await Ready()).Status.ShouldBe(HttpStatusCode.OK);

        Task<HttpResponseMessage> publishing;
        await using (var blocker = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection) { Pooling = false }.ConnectionString))
        {
            await blocker.OpenAsync();
            await using (var begin = new NpgsqlCommand("begin; lock table webhooks.mt_streams in exclusive mode", blocker))
            {
                await begin.ExecuteNonQueryAsync();
            }

            // This publish's commit waits on the lock: the group commit has work and finishes none.
            publishing = Publish("unwatched");
            var stuck = await Poll.Until(Ready, r => r.Status == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(15), r => r.Body);
            stuck.Body.ShouldContain("the group commit made no progress");
            stuck.Body.ShouldContain("writes waiting to be committed");
            logs.Lines.ShouldContain(l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("group commit made no progress", StringComparison.Ordinal));
        }

        (await publishing).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await Poll.Until(Ready, r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(15), r => r.Body);
    }

    private Task<long> Published() => Count("select count(*) from webhooks.mt_events where type = 'event_published'");

    /// <summary>Deliveries that found the target full and were put back for later (durable scheduled messages).</summary>
    private Task<long> SteppedAside() => Count("select count(*) from wolverine.wolverine_incoming_envelopes where status = 'Scheduled'");

    /// <summary>The messages of the durable inbox, for a failure's message.</summary>
    private async Task<string> Envelopes()
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var q = new NpgsqlCommand("select string_agg(message_type || ' ' || status, ', ') from wolverine.wolverine_incoming_envelopes", db);
        return (string)(await q.ExecuteScalarAsync())!;
    }

    private async Task<long> Count(string sql)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var count = new NpgsqlCommand(sql, db);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private async Task<(HttpStatusCode Status, string Body)> Ready()
    {
        var response = await host.Server.CreateClient().GetAsync("/health/ready");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> Publish(string eventSource)
    {
        var client = host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestKeys.Publisher);
        return client.PostAsync("/events", JsonContent(new
        {
            application = DefinitionsSetup.Application,
            eventSource,
            record = DispatchSetup.Record,
        }));
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
