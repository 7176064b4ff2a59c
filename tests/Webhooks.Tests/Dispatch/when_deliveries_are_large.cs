using System.Net;
using Alba;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// Large bodies in batch messages. Wolverine reads an envelope back (a scheduled message, a dead host's work) only up
/// to a size; a batch of deliveries over it was once stored and then failed every poll, holding back every scheduled
/// message (the benchmark's 1,000-webhook fan-out stalled so). Batches are split by body size, and what is stored is
/// read back.
/// </summary>
// With the shared host's tests, not beside them: it loads both cores for a while, and their deliveries wait 15 s at most.
[Collection(SharedHost.Name)]
public sealed class when_deliveries_are_large
{
    private static DeliverWebhook Delivery(int bytes) => new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 1, new byte[bytes]);

    [Fact]
    public void a_batch_is_split_by_body_size_keeping_the_order()
    {
        var deliveries = Enumerable.Range(0, 40).Select(_ => Delivery(200_000)).ToList();

        var parts = DeliverWebhooks.Split(deliveries).ToList();

        parts.Count.ShouldBeGreaterThan(1);
        parts.ShouldAllBe(p => p.Deliveries.Sum(d => d.Body.Length) <= DeliverWebhooks.MaxBodyBytes);
        parts.SelectMany(p => p.Deliveries).ShouldBe(deliveries);
    }

    [Fact]
    public void small_deliveries_stay_in_one_message_and_a_body_over_the_bound_travels_alone()
    {
        DeliverWebhooks.Split(Enumerable.Range(0, 1000).Select(_ => Delivery(600))).Count().ShouldBe(1);

        var parts = DeliverWebhooks.Split([Delivery(100), Delivery(DeliverWebhooks.MaxBodyBytes + 1), Delivery(100)]).ToList();

        parts.Select(p => p.Deliveries.Count).ShouldBe([1, 1, 1]);
        DeliverWebhooks.Split([]).ShouldBeEmpty();
    }

    /// <summary>
    /// One event of 200 KB to 40 webhooks of one target taking one call at a time: 39 deliveries step aside as
    /// scheduled messages (8 MB of bodies together, 10 MB as stored unsplit), every one of them arrives, and no stored
    /// envelope was larger than the split allows.
    /// </summary>
    [Fact]
    public async Task a_fan_out_of_large_bodies_that_steps_aside_arrives_whole()
    {
        await using var receiver = await Receiver.Start();
        receiver.Respond = async (_, _) => await Task.Delay(20);
        var settings = await AppFixture.OwnDatabase("large");
        settings["Webhooks:Dispatch:MaxConcurrencyPerTarget"] = "1";
        settings["Webhooks:Dispatch:MaxEventBytes"] = "262144";
        await using var host = await AppFixture.StartHost(settings);
        for (var i = 0; i < 40; i++)
        {
            await host.Define(DefinitionsSetup.Webhook($"large-{i:00}") with { Url = receiver.Url.ToString() });
        }

        async Task<int> Publish(object record)
        {
            var result = await host.Scenario(s =>
            {
                s.WithKey(TestKeys.Publisher);
                s.Post.Json(DispatchSetup.Event(record)).ToUrl("/events");
                s.StatusCodeShouldBe(HttpStatusCode.Accepted);
            });
            return System.Text.Json.JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("deliveries").GetArrayLength();
        }

        // Dispatch follows the definitions a moment later: small probes until it matches all 40.
        await Poll.Until(() => Publish(DispatchSetup.Record), matched => matched == 40, TimeSpan.FromSeconds(10));

        // The largest envelope stored meanwhile, watched while they step aside: the split keeps each far below the limit.
        // (Its stored size, which needs no decompressing: the record is random, so it barely compresses.)
        var database = host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>();
        var largest = 0L;
        using var watching = new CancellationTokenSource();
        var watch = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                await using var command = database.CreateCommand("select coalesce(max(pg_column_size(body)), 0)::bigint from wolverine.wolverine_incoming_envelopes");
                largest = Math.Max(largest, (long)(await command.ExecuteScalarAsync())!);
                await Task.Delay(50);
            }
        });

        (await Publish(new { h_pk_id = "1", h_notes = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(150_000)) })).ShouldBe(40);

        await Poll.Until(() => Task.FromResult(receiver.Requests.Count(r => r.Body.Length > 200_000)), count => count == 40, TimeSpan.FromSeconds(90));
        await watching.CancelAsync();
        await watch;
        largest.ShouldBeGreaterThan(200_000, "envelopes with the large bodies were seen");
        largest.ShouldBeLessThan(2L << 20, "no stored envelope carries more than the split allows (1 MiB of bodies, as base64); unsplit they were 10 MB");
    }
}
