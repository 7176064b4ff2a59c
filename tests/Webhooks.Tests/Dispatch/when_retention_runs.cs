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
/// chosen moment, on a host of its own: event A published, a moment later event B, so a cutoff between them takes A only.
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
        configuration["Webhooks:Retention:Deliveries"] = "00:00:02";
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
        await Task.Delay(1500);
        var b = await Publish(host);
        var before = await Scalar<string>(host,
            "select string_agg(seq_id || ':' || version, ',' order by seq_id) from webhooks.mt_events where stream_id = $1", a.Event);
        (await Get(host, $"/deliveries/{a.Delivery}")).GetProperty("attempts")[0].GetProperty("responseExcerpt").GetString()!.ShouldContain("response body");

        // A's payload is past 1 s, B's is not (the cutoff falls between them).
        var first = await Run(host, a.At.AddSeconds(1.5));

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
        var early = await Run(host, a.At.AddSeconds(3));
        await host.Services.GetRequiredService<IDocumentStore>().WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));

        // A's record is past 2 s (B's is not): A moves to the archive, B's payload goes.
        var second = await Run(host, a.At.AddSeconds(3));

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
        var third = await Run(host, a.At.AddSeconds(3));
        third.ShouldNotBeNull().DeliveriesArchived.ShouldBe(0);
        third.PayloadsRemoved.ShouldBe(0);
    }

    [Fact]
    public async Task an_event_with_a_delivery_still_pending_is_held_until_it_ends()
    {
        var (host, receiver, _) = await Start("retentionheld", s => s["Webhooks:Dispatch:RetrySchedule:0"] = "01:00:00");
        await using var _ = host;
        await using var __ = receiver;
        receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        };
        var a = await Publish(host); // failed once, its retry an hour away: pending
        (await Get(host, $"/deliveries/{a.Delivery}")).GetProperty("status").GetString().ShouldBe("pending");

        await host.Services.GetRequiredService<IDocumentStore>().WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));
        var first = await Run(host, a.At.AddSeconds(10));

        first.ShouldNotBeNull().EventsHeld.ShouldBe(1);
        first.DeliveriesArchived.ShouldBe(0);
        (await Get(host, $"/deliveries/{a.Delivery}")).GetProperty("status").GetString().ShouldBe("pending");
        (await Scalar<long>(host, "select count(*) from webhooks.mt_events where stream_id = $1 and is_archived", a.Event)).ShouldBe(0);

        // It fails for good (as its last retry would): the next run archives it.
        await using (var session = host.Services.GetRequiredService<IDocumentStore>().LightweightSession())
        {
            session.Events.Append(a.Event, new DeliveryFailed(a.Delivery, "Given up by the test.", DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }

        await host.Services.GetRequiredService<IDocumentStore>().WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));
        var second = await Run(host, a.At.AddSeconds(10));

        second.ShouldNotBeNull().DeliveriesArchived.ShouldBe(1);
        second.EventsHeld.ShouldBe(0);
        var archived = await Get(host, $"/events/{a.Event}");
        archived.GetProperty("deliveries")[0].GetProperty("status").GetString().ShouldBe("failed");
        await Get(host, $"/deliveries/{a.Delivery}", HttpStatusCode.Gone);
        (await Scalar<long>(host, "select count(*) from webhooks.mt_doc_retentionheld")).ShouldBe(0);
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
