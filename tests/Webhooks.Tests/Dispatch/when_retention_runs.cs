using System.Net;
using System.Text.Json;
using Alba;
using Microsoft.AspNetCore.Http;
using Marten;
using Marten.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Retention;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// Retention (issue 16): payloads removed after <c>Webhooks:Retention:Payloads</c>, records archived after
/// <c>:Deliveries</c>, configuration never touched. Each test runs the job itself (the background one is off) at a
/// chosen moment, on a host of its own: event A published and delivered, five seconds later event B, so a cutoff between
/// them takes A only (payloads are kept 1 s, records 4 s).
/// </summary>
[Collection(SharedHost.Name)]
public sealed class when_retention_runs
{
    private static async Task<(IAlbaHost Host, Receiver Receiver, Dictionary<string, string> Settings)> Start(string purpose, Action<Dictionary<string, string>>? settings = null)
    {
        var receiver = await Receiver.Start();
        receiver.Respond = async (context, _) => await context.Response.WriteAsync("""{"received":"a response body the log keeps an excerpt of"}""");
        var configuration = await AppFixture.OwnDatabase(purpose);
        configuration["Webhooks:Retention:Enabled"] = "false";
        configuration["Webhooks:Retention:Payloads"] = "00:00:01";
        configuration["Webhooks:Retention:Deliveries"] = "00:00:04";
        configuration["Webhooks:Retention:BatchSize"] = "2"; // several batches even for a few rows
        settings?.Invoke(configuration);
        var host = await AppFixture.StartHost(configuration);
        await host.Define(DefinitionsSetup.Webhook("kept") with { Url = receiver.Url.ToString() });
        return (host, receiver, configuration);
    }

    private static async Task<(Guid Event, Guid Delivery, DateTimeOffset At)> Publish(IAlbaHost host)
    {
        var answer = await host.Publish(HttpStatusCode.Accepted);
        var id = answer.GetProperty("eventId").GetGuid();
        var view = await Get(host, $"/events/{id}");
        await Poll.Until(() => Get(host, $"/events/{id}"), e => e.GetProperty("deliveries")[0].GetProperty("attempts").GetArrayLength() > 0, TimeSpan.FromSeconds(10));
        return (id, view.GetProperty("deliveries")[0].GetProperty("id").GetGuid(), view.GetProperty("publishedAt").GetDateTimeOffset());
    }

    private static async Task<JsonElement> Get(IAlbaHost host, string path, HttpStatusCode status = HttpStatusCode.OK)
    {
        var result = await host.Scenario(s =>
        {
            s.WithKey(TestKeys.Auditor);
            s.Get.Url(path);
            s.StatusCodeShouldBe(status);
        });
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
    }

    private static void FailEveryCall(Receiver receiver) => receiver.Respond = (context, _) =>
    {
        context.Response.StatusCode = 503;
        return Task.CompletedTask;
    };

    private static Task<RetentionRun?> Run(IAlbaHost host, DateTimeOffset now) => host.Services.GetRequiredService<Retention>().Run(now, CancellationToken.None);

    private static async Task<T> Scalar<T>(IAlbaHost host, string sql, params object[] parameters)
    {
        await using var command = host.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task payloads_go_first_then_records_move_to_the_archive_and_answer_from_there()
    {
        var (host, receiver, _) = await Start("retention");
        await using var _ = host;
        await using var __ = receiver;
        var a = await Publish(host);
        var aRecorded = DateTimeOffset.UtcNow; // A and its attempt are committed by now
        await Task.Delay(5000);
        var b = await Publish(host);
        var before = await Scalar<string>(host,
            "select string_agg(seq_id || ':' || version, ',' order by seq_id) from webhooks.mt_events where stream_id = $1", a.Event);
        (await Get(host, $"/deliveries/{a.Delivery}")).GetProperty("attempts")[0].GetProperty("responseExcerpt").GetString()!.ShouldContain("response body");

        // A's payload is past 1 s, B's is not (the cutoff falls between them).
        var first = await Run(host, aRecorded.AddSeconds(1.2));

        first.ShouldNotBeNull().PayloadsRemoved.ShouldBeGreaterThanOrEqualTo(2); // A's record and its attempt's excerpt
        first.DeliveriesArchived.ShouldBe(0);
        var eventA = await Get(host, $"/events/{a.Event}");
        eventA.GetProperty("record").ValueKind.ShouldBe(JsonValueKind.Null);
        eventA.GetProperty("recordRemovedAt").ValueKind.ShouldBe(JsonValueKind.String);
        var deliveryA = await Get(host, $"/deliveries/{a.Delivery}");
        deliveryA.GetProperty("attempts")[0].GetProperty("responseExcerpt").ValueKind.ShouldBe(JsonValueKind.Null);
        deliveryA.GetProperty("payloadRemovedAt").ValueKind.ShouldBe(JsonValueKind.String);
        deliveryA.GetProperty("status").GetString().ShouldBe("succeeded");
        (await Get(host, $"/events/{b.Event}")).GetProperty("record").GetProperty("h_name").GetString().ShouldBe("Gary");
        (await Get(host, $"/deliveries/{b.Delivery}")).GetProperty("attempts")[0].GetProperty("responseExcerpt").GetString()!.ShouldContain("response body");
        // Masking rewrote the events in place: the same sequence numbers and versions.
        (await Scalar<string>(host, "select string_agg(seq_id || ':' || version, ',' order by seq_id) from webhooks.mt_events where stream_id = $1", a.Event))
            .ShouldBe(before);
        // Nothing left to send again.
        var redeliver = await host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Post.Url($"/deliveries/{a.Delivery}/redeliver");
            s.StatusCodeShouldBe(HttpStatusCode.Gone);
        });
        (await redeliver.ReadAsTextAsync()).ShouldContain("payload was removed");

        // Retention archives only what the async projections (the audit log) have read: a moment after a start, they may not.
        var secondNow = b.At.AddSeconds(3); // records: A's cutoff (B's less 1 s) past A, B's payload (its less 2 s) past B
        var early = await Run(host, secondNow);
        await host.Services.GetRequiredService<IDocumentStore>().WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));

        // A's record is past 4 s (B's is not): A moves to the archive, B's payload goes.
        var second = await Run(host, secondNow);

        (early!.DeliveriesArchived + second.ShouldNotBeNull().DeliveriesArchived).ShouldBe(1);
        (early.StreamsArchived + second.StreamsArchived).ShouldBeGreaterThanOrEqualTo(2); // A's stream and its attempt's ledger
        var gone = await Get(host, $"/deliveries/{a.Delivery}", HttpStatusCode.Gone);
        gone.GetProperty("type").GetString().ShouldBe("urn:webhooks:gone");
        gone.GetProperty("archivedAt").GetDateTimeOffset().ShouldBeGreaterThan(a.At);
        gone.GetProperty("detail").GetString()!.ShouldContain("GET /events/{eventId}");
        var archived = await Get(host, $"/events/{a.Event}");
        archived.GetProperty("archivedAt").ValueKind.ShouldBe(JsonValueKind.String);
        archived.GetProperty("deliveries")[0].GetProperty("id").GetGuid().ShouldBe(a.Delivery);
        archived.GetProperty("deliveries")[0].GetProperty("status").GetString().ShouldBe("succeeded");
        archived.GetProperty("deliveries")[0].GetProperty("attempts").GetArrayLength().ShouldBe(1);
        archived.GetProperty("application").GetString().ShouldBe(DefinitionsSetup.Application);
        await host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Post.Url($"/deliveries/{a.Delivery}/redeliver");
            s.StatusCodeShouldBe(HttpStatusCode.Gone);
        });
        (await Scalar<long>(host, "select count(*) from webhooks.mt_events where stream_id = $1 and not is_archived", a.Event)).ShouldBe(0);
        (await Scalar<long>(host, "select count(*) from webhooks.mt_doc_deliverylog where id = $1", a.Delivery)).ShouldBe(0);
        (await Get(host, $"/deliveries/{b.Delivery}")).GetProperty("status").GetString().ShouldBe("succeeded");
        var eventB = await Get(host, $"/events/{b.Event}");
        eventB.GetProperty("archivedAt").ValueKind.ShouldBe(JsonValueKind.Null);
        eventB.GetProperty("record").ValueKind.ShouldBe(JsonValueKind.Null);

        // Configuration is the audit trail: the webhook's and the event source's streams, made before both, stay hot.
        (await Scalar<long>(host, """
            select count(*) from webhooks.mt_events e where e.is_archived and e.version = 1
            and e.type not in ('event_published', 'delivery_attempted', 'delivery_succeeded', 'delivery_failed', 'delivery_retry_scheduled')
            """)).ShouldBe(0);
        (await Scalar<long>(host, "select count(*) from webhooks.mt_events where type = 'webhook_defined' and not is_archived")).ShouldBe(1);
        (await Get(host, "/webhooks/kept/history")).GetProperty("items").GetArrayLength().ShouldBeGreaterThan(0);

        // An id retention never saw: a version 7 one from before the archive horizon reads as archived (the archive is not
        // indexed by delivery), any other is unknown.
        await Get(host, $"/deliveries/{Guid.NewGuid()}", HttpStatusCode.NotFound);
        await Get(host, $"/deliveries/{Guid.CreateVersion7()}", HttpStatusCode.NotFound);

        // A run with nothing new to do reads nothing twice and changes nothing.
        var third = await Run(host, secondNow);
        third.ShouldNotBeNull().DeliveriesArchived.ShouldBe(0);
        third.PayloadsRemoved.ShouldBe(0);
    }

    [Fact]
    public async Task an_event_with_a_delivery_still_pending_is_held_until_it_ends()
    {
        var (host, receiver, _) = await Start("retentionheld", s => s["Webhooks:Dispatch:RetrySchedule:0"] = "01:00:00");
        await using var _ = host;
        await using var __ = receiver;
        FailEveryCall(receiver);
        // Three events (more than a batch of 2), each delivery failed once, its retry an hour away: pending.
        var pending = new[] { await Publish(host), await Publish(host), await Publish(host) };
        var a = pending[0];
        (await Get(host, $"/deliveries/{a.Delivery}")).GetProperty("status").GetString().ShouldBe("pending");
        var now = DateTimeOffset.UtcNow.AddSeconds(10);
        Task<long> HotAttempts() => Scalar<long>(host,
            "select count(*) from webhooks.mt_events where not is_archived and type = 'delivery_attempted' and data ->> 'deliveryId' = any($1)",
            (object)pending.Select(p => p.Delivery.ToString()).ToArray());

        await host.Services.GetRequiredService<IDocumentStore>().WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));
        var first = await Run(host, now);

        first.ShouldNotBeNull().EventsHeld.ShouldBe(3);
        first.DeliveriesArchived.ShouldBe(0);
        (await Get(host, $"/deliveries/{a.Delivery}")).GetProperty("status").GetString().ShouldBe("pending");
        (await Scalar<long>(host, "select count(*) from webhooks.mt_events where stream_id = any($1) and is_archived", pending.Select(p => p.Event).ToArray())).ShouldBe(0);
        // The ledgers holding their attempts stay hot too: the log can still be rebuilt from the hot events.
        (await HotAttempts()).ShouldBe(3);

        // They fail for good (as their last retries would): the next run archives them, both pages of held streams.
        await using (var session = host.Services.GetRequiredService<IDocumentStore>().LightweightSession())
        {
            foreach (var p in pending)
            {
                session.Events.Append(p.Event, new DeliveryFailed(p.Delivery, "Given up by the test.", DateTimeOffset.UtcNow));
            }

            await session.SaveChangesAsync();
        }

        await host.Services.GetRequiredService<IDocumentStore>().WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));
        var second = await Run(host, now);

        second.ShouldNotBeNull().DeliveriesArchived.ShouldBe(3);
        second.EventsHeld.ShouldBe(0);
        var archived = await Get(host, $"/events/{a.Event}");
        archived.GetProperty("deliveries")[0].GetProperty("status").GetString().ShouldBe("failed");
        await Get(host, $"/deliveries/{a.Delivery}", HttpStatusCode.Gone);
        (await HotAttempts()).ShouldBe(0); // the ledgers went with them
        (await Scalar<long>(host, "select count(*) from webhooks.mt_doc_retentionheld")).ShouldBe(0);
    }

    /// <summary>
    /// A disabled webhook keeps its deliveries; kept longer than payloads are, they have nothing left to send when it is
    /// enabled again: they fail, saying why, instead of waiting for ever.
    /// </summary>
    [Fact]
    public async Task a_delivery_kept_past_its_payloads_retention_fails_when_its_webhook_is_enabled()
    {
        var (host, receiver, _) = await Start("retentionparked", s => s["Webhooks:Dispatch:RetrySchedule:0"] = "00:00:01");
        await using var _ = host;
        await using var __ = receiver;
        FailEveryCall(receiver);
        var admin = Webhooks.Client.WebhooksClient.Create(host.Server.CreateClient(), TestKeys.Admin);
        var a = await Publish(host);
        await admin.DisableWebhook("kept", "the target is down");
        await Poll.Until(() => Get(host, $"/deliveries/{a.Delivery}"), d => d.GetProperty("reason").ValueKind == JsonValueKind.String,
            TimeSpan.FromSeconds(15), d => d.ToString()); // its retry came due while disabled: parked

        (await Run(host, DateTimeOffset.UtcNow.AddSeconds(2))).ShouldNotBeNull(); // (its record, pending, is held if old enough)
        (await Get(host, $"/deliveries/{a.Delivery}")).GetProperty("payloadRemovedAt").ValueKind.ShouldBe(JsonValueKind.String);
        await admin.EnableWebhook("kept");

        var failed = await Poll.Until(() => Get(host, $"/deliveries/{a.Delivery}"), d => d.GetProperty("status").GetString() == "failed",
            TimeSpan.FromSeconds(15), d => d.ToString());
        failed.GetProperty("reason").GetString()!.ShouldContain("payload was removed by retention");
        receiver.Requests.Count.ShouldBe(1); // nothing was sent again
    }

    /// <summary>
    /// A ledger can outlive the deliveries it holds an attempt of by a few days (it is archived once its own time comes):
    /// its events alone, as a rebuild from the hot events reads them, make no log entry.
    /// </summary>
    [Fact]
    public async Task an_attempt_whose_delivery_was_archived_makes_no_log_entry()
    {
        var (host, receiver, _) = await Start("retentionorphan");
        await using var _ = host;
        await using var __ = receiver;
        var archived = Guid.CreateVersion7();
        await using (var session = host.Services.GetRequiredService<IDocumentStore>().LightweightSession())
        {
            session.Events.StartStream(Guid.CreateVersion7(),
                new DeliveryAttempted(archived, 2, DateTimeOffset.UtcNow, 200, 5, null, null, new Dictionary<string, string>()),
                new DeliverySucceeded(archived, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }

        (await Scalar<long>(host, "select count(*) from webhooks.mt_doc_deliverylog where id = $1", archived)).ShouldBe(0);
        var live = await Publish(host); // and a delivery whose creation is there keeps its entry
        (await Get(host, $"/deliveries/{live.Delivery}")).GetProperty("status").GetString().ShouldBe("succeeded");
    }

    [Fact]
    public async Task only_one_host_runs_it_at_a_time()
    {
        var (host, receiver, settings) = await Start("retentionleader");
        await using var _ = host;
        await using var __ = receiver;
        await using var other = await AppFixture.StartHost(settings);
        await using var leader = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await using (var take = new NpgsqlCommand($"select pg_advisory_lock({Retention.LeaderLock})", leader))
        {
            await take.ExecuteScalarAsync();
        }

        (await Run(other, DateTimeOffset.UtcNow)).ShouldBeNull();

        await using (var release = new NpgsqlCommand($"select pg_advisory_unlock({Retention.LeaderLock})", leader))
        {
            await release.ExecuteScalarAsync();
        }

        (await Run(other, DateTimeOffset.UtcNow)).ShouldNotBeNull();
    }

    /// <summary>
    /// A database from before archived-stream partitioning (events in one plain table) is converted when a host starts on
    /// it: its events are kept, read as before, and the event sequence goes on from where it was.
    /// </summary>
    [Fact]
    public async Task a_database_from_before_partitioning_is_converted_and_keeps_its_events()
    {
        var connection = await TestDatabase.Fresh("retentionupgrade");
        var old = Guid.CreateVersion7();
        long lastBefore;
        using (var store = DocumentStore.For(opts =>
        {
            opts.Connection(connection);
            opts.DatabaseSchemaName = "webhooks";
            opts.UseSystemTextJsonForSerialization(Weasel.Core.EnumStorage.AsString, Weasel.Core.Casing.CamelCase);
            opts.Events.StreamIdentity = JasperFx.Events.StreamIdentity.AsGuid;
            opts.Events.MetadataConfig.HeadersEnabled = true;
            opts.Events.MetadataConfig.CorrelationIdEnabled = true;
            opts.Events.MetadataConfig.CausationIdEnabled = true;
            opts.Events.MetadataConfig.UserNameEnabled = true;
        }))
        {
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            await using var session = store.LightweightSession();
            session.Events.StartStream(old, new EventPublished(
                old, DefinitionsSetup.Application, DefinitionsSetup.EventSource, "admin", null, null,
                JsonDocument.Parse("""{"h_pk_id":"1"}""").RootElement, "Accepted", [], "test", DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
            await using var db = NpgsqlDataSource.Create(connection);
            await using var max = db.CreateCommand("select max(seq_id) from webhooks.mt_events");
            lastBefore = (long)(await max.ExecuteScalarAsync())!;
        }

        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Webhooks"] = connection,
            [$"Webhooks:KeySafe:MasterKeys:{AppFixture.MasterKeyId}"] = AppFixture.MasterKey,
        };
        await using var host = await AppFixture.StartHost(settings);
        await host.Define(DefinitionsSetup.Webhook("after") with { Url = "http://127.0.0.1:9/" });

        (await Get(host, $"/events/{old}")).GetProperty("record").GetProperty("h_pk_id").GetString().ShouldBe("1");
        (await Scalar<string>(host, "select relkind::text from pg_class where oid = 'webhooks.mt_events'::regclass")).ShouldBe("p");
        (await Scalar<string>(host, "select string_agg(inhrelid::regclass::text, ',' order by inhrelid::regclass::text) from pg_inherits where inhparent = 'webhooks.mt_events'::regclass"))
            .ShouldBe("mt_events_archived,mt_events_default"); // the archive, and the hot events
        (await Scalar<long>(host, "select min(seq_id) from webhooks.mt_events where stream_id <> $1", old)).ShouldBeGreaterThan(lastBefore);
    }

    [Theory]
    [InlineData("Payloads", "00:00:00", "must be positive")]
    [InlineData("Deliveries", "1.00:00:00", "must be at least Payloads")]
    [InlineData("BatchSize", "0", "BatchSize must be between")]
    [InlineData("RunEvery", "-00:01:00", "RunEvery must be a positive")]
    public void settings_that_make_no_sense_refuse_the_start(string setting, string value, string message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"Webhooks:Retention:{setting}"] = value,
            ["Webhooks:Retention:Payloads"] = setting == "Payloads" ? value : "2.00:00:00",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<RetentionOptions>, RetentionOptionsValidator>();
        using var provider = services.BuildServiceProvider();

        var refused = Should.Throw<Microsoft.Extensions.Options.OptionsValidationException>(
            () => provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate());

        refused.Message.ShouldContain("Webhooks:Retention");
        refused.Message.ShouldContain(message);
    }
}
