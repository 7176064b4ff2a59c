using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Host.Postgres;

// Measures the product beside the physical ceiling on the same machine, in one run, and prints ratios.
var quick = args.Contains("--quick");
var outFile = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault();
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault()?.Split(',').Select(int.Parse).ToHashSet();
bool Runs(int section) => only is null || only.Contains(section);
var backlog = int.Parse(args.SkipWhile(a => a != "--backlog").Skip(1).FirstOrDefault() ?? (quick ? "10000" : "100000"), CultureInfo.InvariantCulture);
var events = int.Parse(args.SkipWhile(a => a != "--events").Skip(1).FirstOrDefault() ?? (quick ? "2000" : "10000"), CultureInfo.InvariantCulture);
var syncSamples = quick ? 200 : 1000;
var statements = args.Contains("--statements");
var warmUp = int.Parse(args.SkipWhile(a => a != "--warm-up").Skip(1).FirstOrDefault() ?? "6000", CultureInfo.InvariantCulture);
var trials = int.Parse(args.SkipWhile(a => a != "--trials").Skip(1).FirstOrDefault() ?? "3", CultureInfo.InvariantCulture);
const int concurrency = 32;
var results = new List<(string Name, string Value)>();
void Report(string name, string value)
{
    results.Add((name, value));
    Console.WriteLine($"  {name}: {value}");
}

var work = Path.Combine(Path.GetTempPath(), $"webhooks-bench-{Guid.NewGuid():N}");
Console.WriteLine($"Starting PostgreSQL in {work} ...");
var postgres = await Costs.WithStatementCounts(EmbeddedPostgres.Start(Path.Combine(work, "pg")));
if (Environment.GetEnvironmentVariable("BENCH_PG_DURATIONS") is { Length: > 0 } pgLog)
{
    // Profiling aid: every statement's duration in the server log, copied to this file at the end.
    await using var db = new Npgsql.NpgsqlConnection(postgres.ConnectionString);
    await db.OpenAsync();
    await using var set = new Npgsql.NpgsqlCommand("alter system set log_min_duration_statement = 0; select pg_reload_conf();", db);
    await set.ExecuteNonQueryAsync();
}

await using var receiver = await Receiver.Start();
Process? host = null;
try
{
    host = StartHost(postgres.ConnectionString, out var address);
    using var http = new HttpClient { BaseAddress = address };
    await WaitReady(http);
    var api = WebhooksClient.Create(new Uri(address.ToString()), "bench-admin-key-0123456789");
    await api.RegisterEventSource("bench", "async", new RegisterEventSource("Contact", null, EntityEvents.Updated));
    await api.RegisterEventSource("bench", "sync", new RegisterEventSource("Contact", null, EntityEvents.Update));
    await api.DefineWebhook(new DefineWebhook("bench-async", null, "bench", "async", true, null, receiver.Url.ToString(), "json", "async", null));
    await api.DefineWebhook(new DefineWebhook("bench-sync", null, "bench", "sync", true, null, receiver.Url.ToString(), "json", "sync", null));
    await Task.Delay(1000); // the catalog reaches Dispatch through the outbox

    // A contact record of ~600 bytes, the size issue 14's comparison used.
    var body = JsonSerializer.Serialize(new
    {
        h_pk_id = "103", h_name = "Gary Lineker", h_firstname = "Gary", h_lastname = "Lineker", h_email = "gary.lineker@example.com",
        h_jobtitle = "Head of Customer Experience", h_company_name = "Example Industries Ltd", h_tel_1 = "+44 20 7946 0958",
        h_tel_2 = "+44 7700 900123", h_address = "221B Baker Street, Marylebone, London NW1 6XE, United Kingdom",
        h_notes = "Prefers e-mail. Renewal due in the spring; ask about the analytics add-on and the support tier upgrade.",
        h_status = "active", h_rating = "4", h_created_on = "2024-03-01 09:30:00", h_modified_on = "2026-11-29 10:15:42",
        h_owner = "admin", h_region = "EMEA", h_segment = "enterprise",
    });
    using var bare = new HttpClient();

    Console.WriteLine("1. Ceiling: bare HttpClient POSTs to the receiver");
    await Loop(Math.Min(events, 1000), concurrency, _ => bare.PostAsync(receiver.Url, new StringContent(body)));
    var ceilingTime = await Loop(events, concurrency, _ => bare.PostAsync(receiver.Url, new StringContent(body)));
    var ceiling = events / ceilingTime.TotalSeconds;
    Report("ceiling (requests/s)", ceiling.ToString("0", CultureInfo.InvariantCulture));

    Console.WriteLine("2. Async end to end: publish over HTTP, one async webhook, until every delivery arrived");
    using var publisher = new HttpClient { BaseAddress = address };
    publisher.DefaultRequestHeaders.Authorization = new("Bearer", "bench-publisher-key-0123456789");
    var publishedRecord = JsonDocument.Parse(body).RootElement;
    async Task<(double Rate, double Publishes, double P50, double P99, Costs Cost)> AsyncRun(int count)
    {
        var published = new ConcurrentDictionary<string, long>();
        receiver.Reset();
        var before = await Costs.Read(host, postgres.ServerProcessId!.Value, postgres.ConnectionString);
        var started = Stopwatch.GetTimestamp();
        await Loop(count, concurrency, async _ =>
        {
            var sent = Stopwatch.GetTimestamp();
            var response = await publisher.PostAsJsonAsync("/events", new { application = "bench", eventSource = "async", actionBy = "bench", record = publishedRecord });
            response.EnsureSuccessStatusCode();
            var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
            published[answer.GetProperty("deliveries")[0].GetProperty("id").GetString()!] = sent;
            return response;
        });
        var publishTime = Stopwatch.GetElapsedTime(started);
        await receiver.WaitFor(count, TimeSpan.FromMinutes(10));
        var asyncTime = Stopwatch.GetElapsedTime(started);
        var cost = (await Costs.Read(host, postgres.ServerProcessId!.Value, postgres.ConnectionString)).Since(before);
        var latencies = receiver.Arrivals.Where(a => published.ContainsKey(a.Id))
            .Select(a => Stopwatch.GetElapsedTime(published[a.Id], a.At).TotalMilliseconds).Order().ToArray();
        return (count / asyncTime.TotalSeconds, count / publishTime.TotalSeconds, Percentile(latencies, 0.5), Percentile(latencies, 0.99), cost);
    }

    // A warm-up first (not measured), then the trials. The host's code is tiered: it runs unoptimised until the JIT
    // has recompiled its hot methods, which takes thousands of deliveries under load (issue 14: docs/benchmarks.md).
    await AsyncRun(warmUp);
    var runs = new List<(double Rate, double Publishes, double P50, double P99, Costs Cost)>();
    for (var trial = 1; trial <= trials; trial++)
    {
        if (statements && trial == trials)
        {
            await Costs.ResetStatements(postgres.ConnectionString);
        }

        var run = await AsyncRun(events);
        runs.Add(run);
        Report($"async trial {trial}: deliveries/s", string.Create(CultureInfo.InvariantCulture,
            $"{run.Rate:0} ({run.Rate / ceiling:P1} of the ceiling; publishes/s {run.Publishes:0}; publish-to-receipt p50 {run.P50:0.0} ms, p99 {run.P99:0.0} ms)"));
        Report($"async trial {trial}: per delivery", run.Cost.PerDelivery(events));
    }

    if (statements)
    {
        Console.WriteLine("  statements per delivery in the last trial (calls, execution time, rows):");
        foreach (var line in await Costs.TopStatements(postgres.ConnectionString, events))
        {
            Console.WriteLine($"    {line}");
        }
    }

    var median = runs.OrderBy(r => r.Rate).ElementAt(runs.Count / 2);
    var throughput = median.Rate;
    Report("async deliveries/s", throughput.ToString("0", CultureInfo.InvariantCulture));
    Report("async / ceiling", (throughput / ceiling).ToString("P1", CultureInfo.InvariantCulture));
    Report("publish-to-receipt p50 (ms)", median.P50.ToString("0.0", CultureInfo.InvariantCulture));
    Report("publish-to-receipt p99 (ms)", median.P99.ToString("0.0", CultureInfo.InvariantCulture));
    Report("async per delivery (median trial)", median.Cost.PerDelivery(events));

    if (Runs(3))
    {
        Console.WriteLine("3. Sync overhead: POST /events with one sync webhook, one at a time, against a direct POST");
        async Task SyncOverhead(HttpClient via, string label)
        {
            // Warm up first: a host just started runs unoptimised (tier-0) code for its first calls.
            for (var i = 0; i < syncSamples; i++)
            {
                (await via.PostAsJsonAsync("/events", new { application = "bench", eventSource = "sync", record = JsonDocument.Parse(body).RootElement })).EnsureSuccessStatusCode();
            }

            var direct = new List<double>();
            var viaSync = new List<double>();
            for (var i = 0; i < syncSamples; i++)
            {
                var t = Stopwatch.GetTimestamp();
                (await bare.PostAsync(receiver.Url, new StringContent(body))).EnsureSuccessStatusCode();
                direct.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                t = Stopwatch.GetTimestamp();
                (await via.PostAsJsonAsync("/events", new { application = "bench", eventSource = "sync", record = JsonDocument.Parse(body).RootElement })).EnsureSuccessStatusCode();
                viaSync.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }

            var (d, s) = (direct.Order().ToArray(), viaSync.Order().ToArray());
            Report($"{label}: direct POST p50 / p99 (ms)", $"{Percentile(d, 0.5):0.00} / {Percentile(d, 0.99):0.00}");
            Report($"{label}: sync publish p50 / p99 (ms)", $"{Percentile(s, 0.5):0.00} / {Percentile(s, 0.99):0.00}");
            Report($"{label}: sync overhead p50 (ms)", (Percentile(s, 0.5) - Percentile(d, 0.5)).ToString("0.00", CultureInfo.InvariantCulture));
        }

        // The floor of any request to the host (Kestrel, middleware, no database, no call).
        var floor = new List<double>();
        for (var i = 0; i < syncSamples; i++)
        {
            var t = Stopwatch.GetTimestamp();
            (await publisher.GetAsync("/health")).EnsureSuccessStatusCode();
            floor.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        Report("GET /health p50 (ms): the host's floor", Percentile(floor.Order().ToArray(), 0.5).ToString("0.00", CultureInfo.InvariantCulture));
        await SyncOverhead(publisher, "SyncRecording=Durable (default)");

        // A second host on the same database, answering sync publishes before their record is committed.
        var deferred = StartHost(postgres.ConnectionString, out var deferredAddress, ("Webhooks__Dispatch__SyncRecording", "Deferred"));
        try
        {
            using var viaDeferred = new HttpClient { BaseAddress = deferredAddress };
            viaDeferred.DefaultRequestHeaders.Authorization = new("Bearer", "bench-publisher-key-0123456789");
            await WaitReady(viaDeferred);
            await SyncOverhead(viaDeferred, "SyncRecording=Deferred");
        }
        finally
        {
            deferred.Kill(entireProcessTree: true);
            await deferred.WaitForExitAsync();
        }
    }

    if (Runs(4))
    {
        Console.WriteLine("4. Fan-out: one event to 1, 10 and 100 async webhooks (sequential publishes)");
        var fanOutSamples = quick ? 50 : 200;
        foreach (var width in new[] { 1, 10, 100 })
        {
            await api.RegisterEventSource("bench", $"fan{width}", new RegisterEventSource("Contact", null, EntityEvents.Updated));
            for (var i = 0; i < width; i++)
            {
                await api.DefineWebhook(new DefineWebhook($"fan{width}-own-{i}", null, "bench", $"fan{width}", true, null, receiver.Url.ToString(), "json", "async", null));
            }

            await Task.Delay(1000);
            receiver.Reset();
            var samples = new List<double>();
            var fanStarted = Stopwatch.GetTimestamp();
            for (var i = 0; i < fanOutSamples; i++)
            {
                var t = Stopwatch.GetTimestamp();
                (await publisher.PostAsJsonAsync("/events", new { application = "bench", eventSource = $"fan{width}", record = JsonDocument.Parse(body).RootElement })).EnsureSuccessStatusCode();
                samples.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }

            await receiver.WaitFor(fanOutSamples * width, TimeSpan.FromMinutes(10));
            var sorted = samples.Order().ToArray();
            Report($"fan-out {width}: publish p50 (ms)", Percentile(sorted, 0.5).ToString("0.00", CultureInfo.InvariantCulture));
            Report($"fan-out {width}: deliveries/s", (fanOutSamples * width / Stopwatch.GetElapsedTime(fanStarted).TotalSeconds).ToString("0", CultureInfo.InvariantCulture));
        }
    }

    if (Runs(5))
    {
        Console.WriteLine("5. Matching: publish cost with non-matching webhooks defined (on 100 other event sources)");
        await api.RegisterEventSource("bench", "lonely", new RegisterEventSource("Contact", null, EntityEvents.Updated));
        for (var i = 0; i < 100; i++)
        {
            await api.RegisterEventSource("bench", $"other{i}", new RegisterEventSource("Contact", null, EntityEvents.Updated));
        }

        var others = 0;
        double? firstCost = null;
        foreach (var count in quick ? new[] { 10, 1000, 10000 } : new[] { 10, 1000, 100000 })
        {
            var seeding = Stopwatch.GetTimestamp();
            var from = others;
            await Loop(count - from, concurrency, async i =>
            {
                var n = from + i;
                await api.DefineWebhook(new DefineWebhook($"other-{n}", null, "bench", $"other{n % 100}", true, null, receiver.Url.ToString(), "json", "async", null));
                if ((n + 1) % 10000 == 0)
                {
                    Console.WriteLine($"    {n + 1} webhooks defined");
                }

                return new HttpResponseMessage();
            });
            others = count;
            if (count - from >= 1000)
            {
                Report($"defining webhooks through the API (32 at once, {count - from})/s", ((count - from) / Stopwatch.GetElapsedTime(seeding).TotalSeconds).ToString("0", CultureInfo.InvariantCulture));
            }

            await WaitQuiet(postgres.ConnectionString);
            var samples = new List<double>();
            for (var i = 0; i < syncSamples; i++)
            {
                var t = Stopwatch.GetTimestamp();
                (await publisher.PostAsJsonAsync("/events", new { application = "bench", eventSource = "lonely", record = JsonDocument.Parse(body).RootElement })).EnsureSuccessStatusCode();
                samples.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }

            var cost = Percentile(samples.Order().ToArray(), 0.5);
            firstCost ??= cost;
            Report($"{count} non-matching webhooks: publish p50 (ms)", cost.ToString("0.00", CultureInfo.InvariantCulture));
            Report($"{count} non-matching webhooks: cost vs 10", (cost / firstCost.Value).ToString("0.00x", CultureInfo.InvariantCulture));
        }
    }

    if (Runs(9))
    {
        Console.WriteLine("9. Batch publishing: POST /events/batch with 4 publishers, one async webhook, until every delivery arrived");
        foreach (var size in new[] { 100, 1000 })
        {
            var batches = Math.Max(1, events / size);
            receiver.Reset();
            var before = await Costs.Read(host, postgres.ServerProcessId!.Value, postgres.ConnectionString);
            var started = Stopwatch.GetTimestamp();
            var batchBody = new { events = Enumerable.Range(0, size).Select(_ => new { application = "bench", eventSource = "async", actionBy = "bench", record = publishedRecord }).ToArray() };
            await Loop(batches, 4, async _ =>
            {
                var response = await publisher.PostAsJsonAsync("/events/batch", batchBody);
                response.EnsureSuccessStatusCode();
                var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (answer.GetProperty("results").EnumerateArray().Any(r => r.GetProperty("status").GetInt32() != 202))
                {
                    throw new InvalidOperationException($"A batch had events not accepted: {answer}");
                }

                return response;
            });
            var publishTime = Stopwatch.GetElapsedTime(started);
            await receiver.WaitFor(batches * size, TimeSpan.FromMinutes(10));
            var total = Stopwatch.GetElapsedTime(started);
            var cost = (await Costs.Read(host, postgres.ServerProcessId!.Value, postgres.ConnectionString)).Since(before);
            Report($"batches of {size}: events accepted/s", (batches * size / publishTime.TotalSeconds).ToString("0", CultureInfo.InvariantCulture));
            Report($"batches of {size}: deliveries/s (publish to last arrival)", string.Create(CultureInfo.InvariantCulture,
                $"{batches * size / total.TotalSeconds:0} ({batches * size / total.TotalSeconds / ceiling:P1} of the ceiling)"));
            Report($"batches of {size}: per delivery", cost.PerDelivery(batches * size));
        }
    }

    if (Runs(10))
    {
        Console.WriteLine("10. 1,000 webhooks on one event source, 10 % failing: the healthy ones' deliveries/s beside the same 900 alone (issue 15)");
        await using var broken = await Receiver.Start();
        broken.Failing = true;
        await api.RegisterEventSource("bench", "many", new RegisterEventSource("Contact", null, EntityEvents.Created));
        for (var i = 0; i < 1000; i++)
        {
            var failing = i % 10 == 9;
            await api.DefineWebhook(new DefineWebhook(
                $"many-{i:0000}", null, "bench", "many", !failing, null, (failing ? broken.Url : receiver.Url).ToString(), "json", "async", null));
        }

        await Task.Delay(2000); // the catalog reaches Dispatch through the outbox
        var fanEvents = quick ? 20 : 30;
        async Task<double> HealthyRate()
        {
            receiver.Reset();
            var started = Stopwatch.GetTimestamp();
            await Loop(fanEvents, 4, _ => publisher.PostAsJsonAsync("/events", new { application = "bench", eventSource = "many", record = publishedRecord }));
            await receiver.WaitFor(900 * fanEvents, TimeSpan.FromMinutes(10));
            return 900 * fanEvents / Stopwatch.GetElapsedTime(started).TotalSeconds;
        }

        async Task Failing(bool enabled)
        {
            for (var i = 9; i < 1000; i += 10)
            {
                // Re-enabled, what the failing ones kept while disabled is failed, not sent: each round starts alike.
                await (enabled ? api.EnableWebhook($"many-{i:0000}", pending: "fail") : api.DisableWebhook($"many-{i:0000}"));
            }

            await Task.Delay(2000); // Dispatch follows the definitions through the outbox
        }

        // A first, untimed fan-out warms the host up; then three rounds alternate alone and beside, and the medians are
        // compared (single runs on this shared machine swung from 60 % to 170 %).
        await HealthyRate();
        var (aloneRates, besideRates, open) = (new List<double>(), new List<double>(), 0);
        for (var round = 0; round < 3; round++)
        {
            aloneRates.Add(await HealthyRate());
            await Failing(enabled: true);
            besideRates.Add(await HealthyRate());
            // The breakers open as the failing ones' calls come back (after the healthy ones are counted): up to 10 s.
            for (var waited = Stopwatch.StartNew(); ; await Task.Delay(500))
            {
                open = 0;
                for (var i = 9; i < 1000; i += 10)
                {
                    open += (await api.GetWebhook($"many-{i:0000}")).Health?.Breaker is "open" or "halfOpen" ? 1 : 0;
                }

                if (open == 100 || waited.Elapsed > TimeSpan.FromSeconds(10))
                {
                    break;
                }
            }

            await Failing(enabled: false);
        }

        var alone = aloneRates.Order().ElementAt(1);
        var beside = besideRates.Order().ElementAt(1);
        Report("900 healthy webhooks alone: deliveries/s (median of 3; each)", $"{alone:0} ({string.Join(" / ", aloneRates.Select(r => r.ToString("0", CultureInfo.InvariantCulture)))})");
        Report("900 healthy beside 100 failing: healthy deliveries/s (median of 3; each)", $"{beside:0} ({string.Join(" / ", besideRates.Select(r => r.ToString("0", CultureInfo.InvariantCulture)))})");
        Report("healthy throughput kept beside the failing (target >= 80 %)", (beside / alone).ToString("P0", CultureInfo.InvariantCulture));
        Report("failing webhooks whose breaker opened", open.ToString(CultureInfo.InvariantCulture));
        for (var i = 0; i < 1000; i++)
        {
            await api.DisableWebhook($"many-{i:0000}");
        }
    }

    if (Runs(11))
    {
        Console.WriteLine("11. Ordered delivery across 1,000 keys (h_pk_id), beside the same events unordered (issue 15)");
        await api.RegisterEventSource("bench", "ordered", new RegisterEventSource("Contact", null, EntityEvents.Deleted));
        await api.DefineWebhook(new DefineWebhook("bench-ordered", null, "bench", "ordered", true, null, receiver.Url.ToString(), "json", "async", null)
            with { Ordering = new Ordering(true) });
        await Task.Delay(1000);
        var records = Enumerable.Range(0, 1000).Select(k =>
        {
            var record = JsonSerializer.Deserialize<Dictionary<string, object>>(body)!;
            record["h_pk_id"] = k.ToString(CultureInfo.InvariantCulture);
            return record;
        }).ToArray();
        async Task<double> Rate(string eventSource)
        {
            receiver.Reset();
            var started = Stopwatch.GetTimestamp();
            await Loop(events, concurrency, i => publisher.PostAsJsonAsync("/events", new { application = "bench", eventSource, record = records[i % 1000] }));
            await receiver.WaitFor(events, TimeSpan.FromMinutes(10));
            return events / Stopwatch.GetElapsedTime(started).TotalSeconds;
        }

        var unordered = await Rate("async");
        var orderedRate = await Rate("ordered");
        Report("unordered, 1,000 keys: deliveries/s", unordered.ToString("0", CultureInfo.InvariantCulture));
        Report("ordered, 1,000 keys: deliveries/s", orderedRate.ToString("0", CultureInfo.InvariantCulture));
        Report("ordered vs unordered", (orderedRate / unordered).ToString("P0", CultureInfo.InvariantCulture));
    }

    if (Runs(6))
    {
        Console.WriteLine("6. Backlog: the receiver answers 503 with Retry-After until a moment after publishing ends");
        var publishRate = median.Publishes;
        // A whole second: Retry-After dates have no fraction, and the receiver must be back exactly when it said it would.
    var backAt = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddSeconds(backlog / publishRate * 1.5 + 20).ToUnixTimeSeconds());
        receiver.Maintenance(backAt);
        await api.RegisterEventSource("bench", "backlog", new RegisterEventSource("Contact", null, EntityEvents.Updated));
        await api.DefineWebhook(new DefineWebhook("bench-backlog", null, "bench", "backlog", true, null, receiver.Url.ToString(), "json", "async", null));
        await Task.Delay(1000);
        receiver.Reset();
        var memoryAtStart = HostMemory(host!);
        var memoryAtTenth = 0L;
        var backlogStarted = Stopwatch.GetTimestamp();
        await Loop(backlog, concurrency, async i =>
        {
            var response = await publisher.PostAsJsonAsync("/events", new { application = "bench", eventSource = "backlog", record = JsonDocument.Parse(body).RootElement });
            if (i == backlog / 10)
            {
                memoryAtTenth = HostMemory(host!).Rss;
            }

            if ((i + 1) % (backlog / 5) == 0)
            {
                Console.WriteLine($"    {i + 1} events published into the backlog");
            }

            return response;
        });
        var backlogPublishTime = Stopwatch.GetElapsedTime(backlogStarted);
        Report($"publishes/s into a backlog ({backlog}, receiver down)", (backlog / backlogPublishTime.TotalSeconds).ToString("0", CultureInfo.InvariantCulture));
        Report("publishes/s into a backlog / with the receiver up", (backlog / backlogPublishTime.TotalSeconds / publishRate).ToString("0.00x", CultureInfo.InvariantCulture));
        var wait = backAt - DateTimeOffset.UtcNow;
        Console.WriteLine($"    waiting {Math.Max(0, wait.TotalSeconds):0} s for the receiver to come back");
        while (DateTimeOffset.UtcNow < backAt)
        {
            await Task.Delay(1000);
        }

        var memoryFull = HostMemory(host!);
        Report("host memory (RSS MB): before / at 10% / at 100% of the backlog", $"{memoryAtStart.Rss / 1048576} / {memoryAtTenth / 1048576} / {memoryFull.Rss / 1048576}");
        var drainStarted = Stopwatch.GetTimestamp();
        try
        {
            await receiver.WaitFor(backlog, TimeSpan.FromMinutes(quick ? 5 : 20), ok: true);
        }
        catch (TimeoutException)
        {
            await using var db = new Npgsql.NpgsqlConnection(postgres.ConnectionString);
            await db.OpenAsync();
            await using var query = new Npgsql.NpgsqlCommand("select status, owner_id, count(*), min(execution_time), max(execution_time), max(attempts) from wolverine.wolverine_incoming_envelopes group by 1, 2", db);
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                Console.WriteLine($"    inbox: {reader.GetValue(0)} owner {reader.GetValue(1)}: {reader.GetValue(2)} ({reader.GetValue(3)} .. {reader.GetValue(4)}, attempts {reader.GetValue(5)})");
            }

            throw;
        }

        var drainTime = Stopwatch.GetElapsedTime(drainStarted);
        var drained = HostMemory(host!);
        Report($"drain: deliveries/s once the receiver is back ({backlog})", (backlog / drainTime.TotalSeconds).ToString("0", CultureInfo.InvariantCulture));
        Report("drain / ceiling", (backlog / drainTime.TotalSeconds / ceiling).ToString("P1", CultureInfo.InvariantCulture));
        Report("host peak memory (MB, VmHWM) after the drain", (drained.Peak / 1048576).ToString(CultureInfo.InvariantCulture));
    }

    if (Runs(7))
    {
        var consoleWebhooks = int.Parse(args.SkipWhile(a => a != "--console-webhooks").Skip(1).FirstOrDefault() ?? "10000", CultureInfo.InvariantCulture);
        var consoleDeliveries = int.Parse(args.SkipWhile(a => a != "--console-deliveries").Skip(1).FirstOrDefault() ?? (quick ? "20000" : "100000"), CultureInfo.InvariantCulture);
        Console.WriteLine($"7. Console: each page's answer time, signed in, with {consoleWebhooks} webhooks and {consoleDeliveries} more deliveries");
        // The webhooks in groups of 100 per event source: one publish makes 100 deliveries.
        const int perSource = 100;
        var sources = consoleWebhooks / perSource;
        for (var i = 0; i < sources; i++)
        {
            await api.RegisterEventSource("console", $"source{i}", new RegisterEventSource("Contact", null, EntityEvents.Updated, null,
                System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject()));
        }

        await Loop(consoleWebhooks, concurrency, async i =>
        {
            await api.DefineWebhook(new DefineWebhook($"console-{i:D5}", $"Webhook {i} of the console's benchmark", "console", $"source{i % sources}", true, null,
                receiver.Url.ToString(), "json", "async", i % 3 == 0 ? "h_name NOT NULL" : null));
            return new HttpResponseMessage();
        });
        await WaitQuiet(postgres.ConnectionString);
        receiver.Reset();
        var publishes = consoleDeliveries / perSource;
        var firstEvent = Guid.Empty;
        await Loop(publishes, 8, async i =>
        {
            HttpResponseMessage response;
            // 100 deliveries per publish fill the host's backlog bound: it answers 503 with Retry-After, and a
            // well-behaved publisher waits that long and sends again.
            while ((response = await publisher.PostAsJsonAsync("/events", new { application = "console", eventSource = $"source{i % sources}", actionBy = "bench", record = JsonDocument.Parse(body).RootElement }))
                   .StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                response.Dispose();
            }

            if (i == 0)
            {
                firstEvent = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetGuid();
            }

            return response;
        });
        await receiver.WaitFor(publishes * perSource, TimeSpan.FromMinutes(quick ? 5 : 20));
        await WaitQuiet(postgres.ConnectionString);
        Console.WriteLine($"    {publishes * perSource} deliveries made");
        if (!args.Contains("--console-stale-statistics"))
        {
            // What autovacuum does soon after a burst (its naptime is a minute): the planner's statistics for the new
            // rows, and the visibility map that lets the overview read its index alone.
            await using var db = new Npgsql.NpgsqlConnection(postgres.ConnectionString);
            await db.OpenAsync();
            await using var analyze = new Npgsql.NpgsqlCommand("vacuum analyze", db);
            await analyze.ExecuteNonQueryAsync();
        }

        // Signed in as a person is: the sign-in form, its antiforgery token, the cookie.
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = address };
        var form = await browser.GetStringAsync("/console/sign-in");
        var token = System.Text.RegularExpressions.Regex.Match(form, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var signIn = await browser.PostAsync("/console/sign-in", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["ApiKey"] = "bench-admin-key-0123456789", ["__RequestVerificationToken"] = token,
        }));
        if (signIn.StatusCode != System.Net.HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"The console's sign-in answered {signIn.StatusCode}.");
        }

        var delivery = (await api.ListDeliveries(webhook: "console-00000", limit: 1)).Items[0].Id;
        var secondPage = (await api.ListWebhooks(limit: 50)).Next;
        var pages = new (string Name, string Path)[]
        {
            ("overview", "/console"),
            ("webhooks, first page", "/console/webhooks"),
            ("webhooks, page 2", $"/console/webhooks?after={Uri.EscapeDataString(secondPage!)}"),
            ("webhooks, search", "/console/webhooks?q=console-0999"),
            ("webhooks, filtered", "/console/webhooks?application=console&eventSource=source7&enabled=true"),
            ("webhook detail", "/console/webhooks/console-00000"),
            ("webhook form", "/console/webhooks/console-00000/edit"),
            ("deliveries", "/console/deliveries"),
            ("deliveries of one webhook", "/console/deliveries?webhook=console-00000"),
            ("deliveries, live poll", "/console/deliveries?handler=Rows"),
            ("delivery", $"/console/deliveries/{delivery}"),
            ("event (100 deliveries)", $"/console/events/{firstEvent}"),
            ("catalog", "/console/catalog?application=console"),
            ("audit log", "/console/audit"),
            ("KeySafe", "/console/keysafe"),
        };
        var floor = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            var t = Stopwatch.GetTimestamp();
            (await browser.GetAsync("/health")).EnsureSuccessStatusCode();
            floor.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        var healthP50 = Percentile(floor.Order().ToArray(), 0.5);
        Report("console: GET /health p50 (ms), the floor", healthP50.ToString("0.00", CultureInfo.InvariantCulture));
        var samples = quick ? 20 : 50;
        foreach (var (name, path) in pages)
        {
            for (var i = 0; i < 3; i++)
            {
                (await browser.GetAsync(path)).EnsureSuccessStatusCode();
            }

            var times = new List<double>();
            for (var i = 0; i < samples; i++)
            {
                var t = Stopwatch.GetTimestamp();
                using var response = await browser.GetAsync(path);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }

            var sorted = times.Order().ToArray();
            Report($"console: {name} p50 / p95 (ms)", $"{Percentile(sorted, 0.5):0.0} / {Percentile(sorted, 0.95):0.0}");
        }

        if (Environment.GetEnvironmentVariable("BENCH_HOLD") is { Length: > 0 } hold)
        {
            Console.WriteLine($"HOLD {address} {postgres.ConnectionString}");
            await Task.Delay(TimeSpan.FromSeconds(int.Parse(hold, CultureInfo.InvariantCulture)));
        }
    }

    if (Runs(8))
    {
        // The reads an operator and an auditor make daily, at the scale of a busy installation's month. Real rows are
        // made through the API and the pipeline, then multiplied in SQL (the pipeline would take an hour): the same
        // documents and events as the product writes, spread over 30 days, one delivery in ten failed.
        var scaleDeliveries = int.Parse(args.SkipWhile(a => a != "--scale-deliveries").Skip(1).FirstOrDefault() ?? (quick ? "100000" : "1000000"), CultureInfo.InvariantCulture);
        var scaleChanges = int.Parse(args.SkipWhile(a => a != "--scale-changes").Skip(1).FirstOrDefault() ?? (quick ? "10000" : "100000"), CultureInfo.InvariantCulture);
        Console.WriteLine($"8. Reads at scale: {scaleDeliveries} deliveries and {scaleChanges} configuration changes");
        const int scaleHooks = 100;
        await api.RegisterEventSource("scale", "contacts", new RegisterEventSource("Contact", null, EntityEvents.Updated));
        for (var i = 0; i < scaleHooks; i++)
        {
            await api.DefineWebhook(new DefineWebhook($"scale-{i:D3}", null, "scale", "contacts", true, null, receiver.Url.ToString(), "json", "async", null));
        }

        await WaitQuiet(postgres.ConnectionString);
        receiver.Reset();
        const int templates = 20;
        for (var i = 0; i < templates; i++)
        {
            (await publisher.PostAsJsonAsync("/events", new { application = "scale", eventSource = "contacts", actionBy = "bench", record = JsonDocument.Parse(body).RootElement }))
                .EnsureSuccessStatusCode();
        }

        await receiver.WaitFor(templates * scaleHooks, TimeSpan.FromMinutes(5));
        await WaitQuiet(postgres.ConnectionString);
        await using (var db = new Npgsql.NpgsqlConnection(postgres.ConnectionString))
        {
            await db.OpenAsync();
            async Task Sql(string sql)
            {
                await using var command = new Npgsql.NpgsqlCommand(sql, db) { CommandTimeout = 3600 };
                await command.ExecuteNonQueryAsync();
            }

            async Task<List<string>> Columns(string table)
            {
                var columns = new List<string>();
                await using var query = new Npgsql.NpgsqlCommand(
                    "select column_name from information_schema.columns where table_schema = 'webhooks' and table_name = $1 order by ordinal_position", db);
                query.Parameters.Add(new Npgsql.NpgsqlParameter { Value = table });
                await using var reader = await query.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    columns.Add(reader.GetString(0));
                }

                return columns;
            }

            // A version 7 UUID for a moment: ids stay in time order, as the product's are.
            await Sql("""
                create or replace function pg_temp.uuid7(at timestamptz) returns uuid language sql volatile as $$
                  select (lpad(to_hex(floor(extract(epoch from at) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
                          || '8' || substr(md5(random()::text), 1, 15))::uuid $$
                """);
            var copies = Math.Max(1, scaleDeliveries / (templates * scaleHooks));
            var made = Stopwatch.GetTimestamp();
            // Deliveries: each real one copied, moved back in time (copy n is n * 30 days / copies older), one in ten failed.
            var log = await Columns("mt_doc_deliverylog");
            string LogColumn(string column) => column switch
            {
                "id" => "pg_temp.uuid7(t.at)",
                "data" => "jsonb_set(jsonb_set(d.data, '{status}', to_jsonb(t.status)), '{createdAt}', to_jsonb(t.at))",
                "status" => "t.status",
                "created_at" => "t.at",
                _ => $"d.{column}",
            };
            await Sql($"""
                insert into webhooks.mt_doc_deliverylog ({string.Join(", ", log)})
                select {string.Join(", ", log.Select(LogColumn))}
                from webhooks.mt_doc_deliverylog d
                cross join generate_series(1, {copies}) g
                cross join lateral (select d.created_at - g * interval '30 days' / {copies} as at,
                                           case when random() < 0.1 then 'failed' else d.status end as status) t
                """);
            Console.WriteLine($"    {copies * templates * scaleHooks} deliveries copied in {Stopwatch.GetElapsedTime(made).TotalSeconds:0} s");

            // Configuration changes: the webhooks' definitions copied onto new streams, one a minute or so back in time.
            made = Stopwatch.GetTimestamp();
            var perTemplate = Math.Max(1, scaleChanges / scaleHooks);
            await Sql($"""
                create temp table copies as
                select gen_random_uuid() as stream, e.id as template, now() - (g * {scaleHooks} + row_number() over (partition by g order by e.seq_id)) * interval '30 days' / {scaleChanges} as at
                from webhooks.mt_events e cross join generate_series(1, {perTemplate}) g
                where e.type = 'webhook_defined' and e.data ->> 'name' like 'scale-%'
                """);
            var streams = await Columns("mt_streams");
            await Sql($"""
                insert into webhooks.mt_streams ({string.Join(", ", streams)})
                select {string.Join(", ", streams.Select(c => c switch { "id" => "c.stream", "timestamp" or "created" => "c.at", _ => $"s.{c}" }))}
                from copies c join webhooks.mt_events e on e.id = c.template join webhooks.mt_streams s on s.id = e.stream_id
                """);
            var eventColumns = await Columns("mt_events");
            await Sql($"""
                insert into webhooks.mt_events ({string.Join(", ", eventColumns)})
                select {string.Join(", ", eventColumns.Select(c => c switch
                {
                    "id" => "gen_random_uuid()",
                    "seq_id" => "nextval('webhooks.mt_events_sequence')",
                    "stream_id" => "c.stream",
                    "timestamp" => "c.at",
                    "data" => "jsonb_set(e.data, '{webhookId}', to_jsonb(c.stream))",
                    _ => $"e.{c}",
                }))}
                from copies c join webhooks.mt_events e on e.id = c.template order by c.at
                """);
            Console.WriteLine($"    {perTemplate * scaleHooks} configuration changes copied in {Stopwatch.GetElapsedTime(made).TotalSeconds:0} s");

            // Where the audit log is a projection, wait until it has them all.
            await using var projected = new Npgsql.NpgsqlCommand("select to_regclass('webhooks.mt_doc_changeentry') is not null", db);
            if ((bool)(await projected.ExecuteScalarAsync())!)
            {
                made = Stopwatch.GetTimestamp();
                await using var count = new Npgsql.NpgsqlCommand("select count(*) from webhooks.mt_doc_changeentry", db);
                while ((long)(await count.ExecuteScalarAsync())! < perTemplate * scaleHooks)
                {
                    await Task.Delay(1000);
                }

                Report("scale: audit projection catching up with the copied changes (changes/s)",
                    (perTemplate * scaleHooks / Stopwatch.GetElapsedTime(made).TotalSeconds).ToString("0", CultureInfo.InvariantCulture));
            }

            await Sql("vacuum analyze");
        }

        var floor = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            var t = Stopwatch.GetTimestamp();
            (await http.GetAsync("/health")).EnsureSuccessStatusCode();
            floor.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        Report("scale: GET /health p50 (ms), the floor", Percentile(floor.Order().ToArray(), 0.5).ToString("0.00", CultureInfo.InvariantCulture));
        using var reader = new HttpClient { BaseAddress = address };
        reader.DefaultRequestHeaders.Authorization = new("Bearer", "bench-admin-key-0123456789");
        var midMonth = DateTimeOffset.UtcNow.AddDays(-15);
        var reads = new (string Name, string Path)[]
        {
            ("GET /deliveries?webhook=X&status=failed", "/deliveries?webhook=scale-007&status=failed"),
            ("GET /deliveries?webhook=X", "/deliveries?webhook=scale-007"),
            ("GET /audit?from= (the last day)", $"/audit?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-1).ToString("O"))}"),
            ("GET /audit?from=&to= (a day mid-month)", $"/audit?from={Uri.EscapeDataString(midMonth.ToString("O"))}&to={Uri.EscapeDataString(midMonth.AddDays(1).ToString("O"))}"),
            ("GET /audit", "/audit"),
            ("GET /webhooks/{name}/stats", "/webhooks/scale-007/stats"),
            ("GET /webhooks?application=&enabled=", "/webhooks?application=scale&enabled=true"),
        };
        foreach (var (name, path) in reads)
        {
            // Each read must find something, or its time says nothing.
            var items = (await reader.GetFromJsonAsync<JsonElement>(path)).TryGetProperty("items", out var found) ? found.GetArrayLength() : 1;
            if (items == 0)
            {
                throw new InvalidOperationException($"{path} found nothing: the seeded data is not what the benchmark meant.");
            }

            for (var i = 0; i < 3; i++)
            {
                (await reader.GetAsync(path)).EnsureSuccessStatusCode();
            }

            var times = new List<double>();
            for (var i = 0; i < (quick ? 20 : 50); i++)
            {
                var t = Stopwatch.GetTimestamp();
                using var response = await reader.GetAsync(path);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }

            var sorted = times.Order().ToArray();
            Report($"scale: {name} p50 / p95 (ms)", $"{Percentile(sorted, 0.5):0.0} / {Percentile(sorted, 0.95):0.0}");
        }
    }

    if (Runs(12))
    {
        Console.WriteLine("12. Telemetry: async deliveries with it off, and on (metrics scraped every 5 s, traces and metrics sent over OTLP), alternated (issue 16)");
        // The main host stops: each round runs a host of its own on the same database, off or on.
        if (host is { HasExited: false })
        {
            host.Kill(entireProcessTree: true);
            await host.WaitForExitAsync();
        }

        // A stand-in OpenTelemetry collector on loopback: takes OTLP/HTTP and counts what it got.
        var collected = 0L;
        var collector = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        collector.WebHost.UseUrls("http://127.0.0.1:0");
        collector.Logging.ClearProviders();
        await using var otlp = collector.Build();
        otlp.MapPost("/v1/{signal}", async (Microsoft.AspNetCore.Http.HttpContext context) =>
        {
            using var sink = new MemoryStream();
            await context.Request.Body.CopyToAsync(sink);
            Interlocked.Add(ref collected, sink.Length);
            return Microsoft.AspNetCore.Http.Results.Ok();
        });
        await otlp.StartAsync();
        var otlpUrl = otlp.Urls.First();

        // off: no metrics, no traces. on: as configured by default with an OTLP endpoint (every metric, a tenth of publishes
        // traced whole). every trace: the same with every publish traced (OTEL_TRACES_SAMPLER=always_on).
        var arms = new[] { "off", "on", "every trace" };
        var telemetryRuns = arms.ToDictionary(a => a, _ => new List<(double Rate, Costs Cost)>());
        foreach (var arm in arms.Concat(arms))
        {
            var on = arm != "off";
            (string, string)[] exporting = [("OTEL_EXPORTER_OTLP_ENDPOINT", otlpUrl), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"), ("OTEL_METRIC_EXPORT_INTERVAL", "5000")];
            (string, string)[] settings = arm switch
            {
                "off" => [("Webhooks__Telemetry__Metrics__Enabled", "false")],
                "on" => exporting,
                _ => [.. exporting, ("OTEL_TRACES_SAMPLER", "always_on")],
            };
            var armHost = StartHost(postgres.ConnectionString, out var armAddress, settings);
            try
            {
                using var armHttp = new HttpClient { BaseAddress = armAddress };
                await WaitReady(armHttp);
                armHttp.DefaultRequestHeaders.Authorization = new("Bearer", "bench-publisher-key-0123456789");
                using var scraper = new HttpClient { BaseAddress = armAddress };
                scraper.DefaultRequestHeaders.Authorization = new("Bearer", "bench-admin-key-0123456789");
                using var stopScraping = new CancellationTokenSource();
                var scraping = on ? Task.Run(async () =>
                {
                    while (!stopScraping.IsCancellationRequested)
                    {
                        (await scraper.GetAsync("/metrics")).EnsureSuccessStatusCode();
                        await Task.Delay(5000, stopScraping.Token).ContinueWith(_ => { });
                    }
                }) : Task.CompletedTask;

                async Task<(double Rate, Costs Cost)> Run(int count)
                {
                    receiver.Reset();
                    var before = await Costs.Read(armHost, postgres.ServerProcessId!.Value, postgres.ConnectionString);
                    var started = Stopwatch.GetTimestamp();
                    await Loop(count, concurrency, _ => armHttp.PostAsJsonAsync("/events", new { application = "bench", eventSource = "async", actionBy = "bench", record = publishedRecord }));
                    await receiver.WaitFor(count, TimeSpan.FromMinutes(10));
                    var rate = count / Stopwatch.GetElapsedTime(started).TotalSeconds;
                    return (rate, (await Costs.Read(armHost, postgres.ServerProcessId!.Value, postgres.ConnectionString)).Since(before));
                }

                // Each host matches the async webhook once its catalog is loaded; warmed up, then measured.
                for (var matched = 0; matched != 1; await Task.Delay(100))
                {
                    var probe = await armHttp.PostAsJsonAsync("/events", new { application = "bench", eventSource = "async", actionBy = "bench", record = publishedRecord });
                    matched = (await probe.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deliveries").GetArrayLength();
                }

                await Run(warmUp);
                var measured = await Run(events);
                telemetryRuns[arm].Add(measured);
                Report($"telemetry {arm}: deliveries/s", string.Create(CultureInfo.InvariantCulture, $"{measured.Rate:0}; {measured.Cost.PerDelivery(events)}"));
                await stopScraping.CancelAsync();
                await scraping;
            }
            finally
            {
                armHost.Kill(entireProcessTree: true);
                await armHost.WaitForExitAsync();
            }
        }

        double Mean(string arm) => telemetryRuns[arm].Average(r => r.Rate);
        double Cpu(string arm) => telemetryRuns[arm].Average(r => r.Cost.HostCpu + r.Cost.PostgresCpu) * 1000 / events;
        foreach (var arm in arms.Skip(1))
        {
            Report($"telemetry {arm} vs off: async deliveries/s (mean of two rounds each)",
                string.Create(CultureInfo.InvariantCulture, $"{Mean(arm):0} vs {Mean("off"):0}: {Mean(arm) / Mean("off") - 1:+0.0%;-0.0%} (target: costs under 5 %)"));
            Report($"telemetry {arm} vs off: host + PostgreSQL CPU per delivery (ms)",
                string.Create(CultureInfo.InvariantCulture, $"{Cpu(arm):0.000} vs {Cpu("off"):0.000}: {Cpu(arm) / Cpu("off") - 1:+0.0%;-0.0%}"));
        }

        Report("telemetry: bytes the collector received over OTLP", Interlocked.Read(ref collected).ToString(CultureInfo.InvariantCulture));
        await otlp.StopAsync();
    }

    if (Runs(13))
    {
        // Issue 16: a million deliveries recorded through the pipeline (nine in ten of them "old": recorded before a
        // moment T; the rest after it), then a host whose retention periods put T at the cutoff runs the job. Hot table
        // sizes before and after, publish and delivery-log read latency before, during and after the run, and the
        // archive answering GET /events/{id}.
        var retained = int.Parse(args.SkipWhile(a => a != "--retention-deliveries").Skip(1).FirstOrDefault() ?? (quick ? "100000" : "1000000"), CultureInfo.InvariantCulture);
        const int retainHooks = 100;
        var retainPublishes = retained / retainHooks;
        Console.WriteLine($"13. Retention: {retainPublishes * retainHooks} deliveries recorded (publishes to {retainHooks} webhooks), then retention runs");
        if (host is { HasExited: false })
        {
            host.Kill(entireProcessTree: true);
            await host.WaitForExitAsync();
        }

        var recorder = StartHost(postgres.ConnectionString, out var recordAddress, ("Webhooks__Retention__Enabled", "false"));
        using var recordHttp = new HttpClient { BaseAddress = recordAddress };
        await WaitReady(recordHttp);
        var recordApi = WebhooksClient.Create(new Uri(recordAddress.ToString()), "bench-admin-key-0123456789");
        await recordApi.RegisterEventSource("retain", "orders", new RegisterEventSource("Order", null, EntityEvents.Updated));
        await recordApi.RegisterEventSource("retain", "probe", new RegisterEventSource("Order", null, EntityEvents.Updated));
        for (var i = 0; i < retainHooks; i++)
        {
            await recordApi.DefineWebhook(new DefineWebhook($"retain-{i:D3}", null, "retain", "orders", true, null, receiver.Url.ToString(), "json", "async", null));
        }

        await recordApi.DefineWebhook(new DefineWebhook("retain-probe", null, "retain", "probe", true, null, receiver.Url.ToString(), "json", "async", null));
        recordHttp.DefaultRequestHeaders.Authorization = new("Bearer", "bench-publisher-key-0123456789");
        object Order(string source) => new { application = "retain", eventSource = source, actionBy = "bench", record = publishedRecord };
        for (var matched = 0; matched != retainHooks; await Task.Delay(200))
        {
            matched = (await (await recordHttp.PostAsJsonAsync("/events", Order("orders"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deliveries").GetArrayLength();
        }

        await WaitQuiet(postgres.ConnectionString);
        var oldPublishes = retainPublishes * 9 / 10;
        var oldEvents = new ConcurrentBag<Guid>();
        var recording = Stopwatch.GetTimestamp();
        async Task Record(int publishes, ConcurrentBag<Guid>? ids)
        {
            receiver.Reset();
            await Loop(publishes, concurrency, async _ =>
            {
                var answer = await recordHttp.PostAsJsonAsync("/events", Order("orders"));
                if (ids is not null && answer.IsSuccessStatusCode)
                {
                    ids.Add((await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetGuid());
                }

                return answer;
            });
            await receiver.WaitFor(publishes * retainHooks, TimeSpan.FromMinutes(30));
            await WaitQuiet(postgres.ConnectionString);
        }

        await Record(oldPublishes, oldEvents);
        // The cutoff T falls in a 20-second gap between the old deliveries and the recent ones.
        await Task.Delay(10_000);
        var cutoff = DateTimeOffset.UtcNow;
        await Task.Delay(10_000);
        await Record(retainPublishes - oldPublishes, null);
        var recorded = (retainPublishes * retainHooks) / Stopwatch.GetElapsedTime(recording).TotalSeconds;
        Report("retention: deliveries recorded (through the pipeline, deliveries/s)", $"{retainPublishes * retainHooks} ({recorded:0}/s)");

        await using var sizes = new Npgsql.NpgsqlConnection(postgres.ConnectionString);
        await sizes.OpenAsync();
        async Task<string> Tables()
        {
            await using var vacuum = new Npgsql.NpgsqlCommand("vacuum analyze webhooks.mt_events, webhooks.mt_streams, webhooks.mt_doc_deliverylog", sizes) { CommandTimeout = 3600 };
            await vacuum.ExecuteNonQueryAsync();
            var parts = new List<string>();
            foreach (var table in new[] { "mt_events_default", "mt_streams_default", "mt_doc_deliverylog", "mt_events_archived", "mt_streams_archived" })
            {
                await using var size = new Npgsql.NpgsqlCommand(
                    $"select count(*), pg_total_relation_size('webhooks.{table}') from webhooks.{table}", sizes) { CommandTimeout = 3600 };
                await using var reader = await size.ExecuteReaderAsync();
                await reader.ReadAsync();
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{table} {reader.GetInt64(0)} rows {reader.GetInt64(1) / 1048576.0:0} MB"));
            }

            return string.Join("; ", parts);
        }

        Report("retention: tables before", await Tables());
        recorder.Kill(entireProcessTree: true);
        await recorder.WaitForExitAsync();

        // Both periods put the cutoff at T when the job's first run starts (a minute after the host); one run only.
        var period = DateTimeOffset.UtcNow.AddSeconds(60) - cutoff;
        var periodText = period.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture);
        var keeper = StartHost(postgres.ConnectionString, out var keepAddress,
            ("Webhooks__Retention__Payloads", periodText), ("Webhooks__Retention__Deliveries", periodText), ("Webhooks__Retention__RunEvery", "01:00:00"));
        try
        {
            using var keepHttp = new HttpClient { BaseAddress = keepAddress };
            await WaitReady(keepHttp);
            keepHttp.DefaultRequestHeaders.Authorization = new("Bearer", "bench-publisher-key-0123456789");
            using var auditor = new HttpClient { BaseAddress = keepAddress };
            auditor.DefaultRequestHeaders.Authorization = new("Bearer", "bench-admin-key-0123456789");
            for (var matched = 0; matched != 1; await Task.Delay(200))
            {
                matched = (await (await keepHttp.PostAsJsonAsync("/events", Order("probe"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deliveries").GetArrayLength();
            }

            // Latency of what applications and auditors do, p50 and p99 in ms: a publish (one async webhook), a webhook's
            // latest deliveries, a recent event.
            var recentEvent = (await (await keepHttp.PostAsJsonAsync("/events", Order("probe"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetGuid();
            async Task<(double Publish, double PublishP99, double Log, double Event)> Latencies(int samples)
            {
                var (publish, log, read) = (new List<double>(), new List<double>(), new List<double>());
                for (var i = 0; i < samples; i++)
                {
                    var t = Stopwatch.GetTimestamp();
                    (await keepHttp.PostAsJsonAsync("/events", Order("probe"))).EnsureSuccessStatusCode();
                    publish.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    t = Stopwatch.GetTimestamp();
                    (await auditor.GetAsync("/deliveries?webhook=retain-007&limit=50")).EnsureSuccessStatusCode();
                    log.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    t = Stopwatch.GetTimestamp();
                    (await auditor.GetAsync($"/events/{recentEvent}")).EnsureSuccessStatusCode();
                    read.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }

                double P(List<double> values, double p) => Percentile(values.Order().ToArray(), p);
                return (P(publish, 0.5), P(publish, 0.99), P(log, 0.5), P(read, 0.5));
            }

            string Show((double Publish, double PublishP99, double Log, double Event) l) =>
                string.Create(CultureInfo.InvariantCulture, $"publish p50 {l.Publish:0.0} (p99 {l.PublishP99:0.0}); GET /deliveries?webhook= p50 {l.Log:0.0}; GET /events/{{id}} p50 {l.Event:0.0}");
            await Latencies(20); // warm-up: the host is new
            var before = await Latencies(quick ? 50 : 100);
            Report("retention: latency before the run (ms)", Show(before));

            // The run: from its first removal until everything before T is archived, latencies sampled meanwhile.
            async Task<(long Payloads, DateTimeOffset ArchivedBefore)> Progress()
            {
                await using var state = new Npgsql.NpgsqlCommand(
                    "select coalesce((data ->> 'payloadsRemovedThrough')::bigint, 0), coalesce((data ->> 'archivedBefore')::timestamptz, 'epoch') from webhooks.mt_doc_retentionstate", sizes);
                await using var reader = await state.ExecuteReaderAsync();
                return await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1)) : (0, DateTimeOffset.UnixEpoch);
            }

            var waitStart = Stopwatch.GetTimestamp();
            while ((await Progress()).Payloads == 0)
            {
                if (Stopwatch.GetElapsedTime(waitStart) > TimeSpan.FromMinutes(3))
                {
                    throw new TimeoutException("Retention did not start within three minutes of its host.");
                }

                await Task.Delay(200);
            }

            var runStart = Stopwatch.GetTimestamp();
            var during = new List<(double Publish, double PublishP99, double Log, double Event)>();
            while ((await Progress()).ArchivedBefore < cutoff.AddSeconds(-10))
            {
                during.Add(await Latencies(10));
                if (Stopwatch.GetElapsedTime(runStart) > TimeSpan.FromMinutes(60))
                {
                    throw new TimeoutException("Retention did not finish within an hour.");
                }
            }

            var runTime = Stopwatch.GetElapsedTime(runStart).TotalSeconds;
            var archivedDeliveries = oldPublishes * retainHooks;
            Report("retention: the run (s; deliveries archived per s)", string.Create(CultureInfo.InvariantCulture, $"{runTime:0} s for {archivedDeliveries} deliveries ({archivedDeliveries / runTime:0}/s, payloads removed first)"));
            if (during.Count > 0)
            {
                Report("retention: latency during the run (ms, median of the samples' p50s)", Show((
                    during.Select(d => d.Publish).Order().ElementAt(during.Count / 2), during.Select(d => d.PublishP99).Max(),
                    during.Select(d => d.Log).Order().ElementAt(during.Count / 2), during.Select(d => d.Event).Order().ElementAt(during.Count / 2))));
            }

            var after = await Latencies(quick ? 50 : 100);
            Report("retention: latency after the run (ms)", Show(after));
            Report("retention: after vs before (p50 ratio: publish; delivery log; event)", string.Create(CultureInfo.InvariantCulture,
                $"{after.Publish / before.Publish:0.00}; {after.Log / before.Log:0.00}; {after.Event / before.Event:0.00}"));
            Report("retention: tables after", await Tables());

            // The archive still answers: an old event from it, and its delivery's 410.
            var archived = oldEvents.First();
            var fromArchive = new List<double>();
            JsonElement archivedView = default;
            for (var i = 0; i < 20; i++)
            {
                var t = Stopwatch.GetTimestamp();
                var answer = await auditor.GetAsync($"/events/{archived}");
                answer.EnsureSuccessStatusCode();
                fromArchive.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                archivedView = await answer.Content.ReadFromJsonAsync<JsonElement>();
            }

            var oldDelivery = archivedView.GetProperty("deliveries")[0].GetProperty("id").GetGuid();
            var gone = await auditor.GetAsync($"/deliveries/{oldDelivery}");
            if (archivedView.GetProperty("archivedAt").ValueKind != JsonValueKind.String || archivedView.GetProperty("deliveries").GetArrayLength() != retainHooks
                || gone.StatusCode != System.Net.HttpStatusCode.Gone)
            {
                throw new InvalidOperationException($"The archive did not answer as it should: {archivedView}; GET /deliveries/{oldDelivery} answered {(int)gone.StatusCode}.");
            }

            Report("retention: GET /events/{id} of an archived event (p50 ms; its deliveries)", string.Create(CultureInfo.InvariantCulture,
                $"{Percentile(fromArchive.Order().ToArray(), 0.5):0.0}; {retainHooks} deliveries from the archive, GET /deliveries/{{id}} 410"));

            // PostgreSQL keeps the space archived rows leave for the hot tables' next rows: a tenth more recorded, sizes again.
            receiver.Reset();
            await Loop(retainPublishes / 10, concurrency, _ => keepHttp.PostAsJsonAsync("/events", Order("orders")));
            await receiver.WaitFor(retainPublishes / 10 * retainHooks, TimeSpan.FromMinutes(30));
            await WaitQuiet(postgres.ConnectionString);
            Report($"retention: tables after {retainPublishes / 10 * retainHooks} more deliveries (space reused)", await Tables());
        }
        finally
        {
            keeper.Kill(entireProcessTree: true);
            await keeper.WaitForExitAsync();
        }
    }

    Console.WriteLine();
    Console.WriteLine($"| measure ({Environment.ProcessorCount} cores, {(quick ? "quick" : "full")}) | value |");
    Console.WriteLine("|---|---|");
    foreach (var (name, value) in results)
    {
        Console.WriteLine($"| {name} | {value} |");
    }

    if (outFile is not null)
    {
        await File.WriteAllTextAsync(outFile, JsonSerializer.Serialize(results.ToDictionary(r => r.Name, r => r.Value)));
    }
}
finally
{
    if (host is { HasExited: false })
    {
        host.Kill(entireProcessTree: true);
        await host.WaitForExitAsync();
    }

    postgres.Stop();
    if (Environment.GetEnvironmentVariable("BENCH_PG_DURATIONS") is { Length: > 0 } durations)
    {
        File.Copy(Path.Combine(work, "pg", "server.log"), durations, overwrite: true);
    }

    try
    {
        Directory.Delete(work, recursive: true);
    }
    catch (IOException)
    {
    }
}

// Definitions reach Dispatch through the outbox: waits until the host has handled every message (its inbox is empty).
static async Task WaitQuiet(string connection)
{
    await using var db = new Npgsql.NpgsqlConnection(connection);
    await db.OpenAsync();
    await using var query = new Npgsql.NpgsqlCommand("select count(*) from wolverine.wolverine_incoming_envelopes where status = 'Incoming'", db);
    for (var quiet = 0; quiet < 3; await Task.Delay(500))
    {
        quiet = (long)(await query.ExecuteScalarAsync())! == 0 ? quiet + 1 : 0;
    }
}

static (long Rss, long Peak) HostMemory(Process host)
{
    long Read(string field) => long.Parse(File.ReadLines($"/proc/{host.Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    return (Read("VmRSS:"), Read("VmHWM:"));
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

static async Task<TimeSpan> Loop(int count, int parallel, Func<int, Task<HttpResponseMessage>> call)
{
    var next = -1;
    var started = Stopwatch.GetTimestamp();
    await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            using var response = await call(i);
            response.EnsureSuccessStatusCode();
        }
    }));
    return Stopwatch.GetElapsedTime(started);
}

static Process StartHost(string connection, out Uri address, params (string Key, string Value)[] extra)
{
    using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
    {
        probe.Start();
        address = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)probe.LocalEndpoint).Port}");
    }

    // BENCH_HOST_DLL runs another build of the host (an A/B against an older commit) under the same benchmark.
    var dll = Environment.GetEnvironmentVariable("BENCH_HOST_DLL") is { Length: > 0 } other ? other : Path.Combine(AppContext.BaseDirectory, "Webhooks.Host.dll");
    var start = new ProcessStartInfo("dotnet") { ArgumentList = { dll }, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
    start.Environment["ASPNETCORE_URLS"] = address.ToString();
    // BENCH_CONNECTION_EXTRA adds Npgsql settings to the host's connection string (an A/B of a setting).
    start.Environment["ConnectionStrings__Webhooks"] = connection + (Environment.GetEnvironmentVariable("BENCH_CONNECTION_EXTRA") is { Length: > 0 } settings ? ";" + settings : "");
    start.Environment["Logging__LogLevel__Default"] = "Warning";
    start.Environment["Webhooks__Auth__ApiKeys__admin__Key"] = "bench-admin-key-0123456789";
    start.Environment["Webhooks__Auth__ApiKeys__admin__Roles__0"] = "admin";
    start.Environment["Webhooks__Auth__ApiKeys__publisher__Key"] = "bench-publisher-key-0123456789";
    start.Environment["Webhooks__Auth__ApiKeys__publisher__Roles__0"] = "publisher";
    start.Environment["Webhooks__KeySafe__MasterKeys__bench"] = Convert.ToBase64String(new byte[32]);
    start.Environment["Webhooks__Dispatch__AllowedNetworks__0"] = "127.0.0.0/8";
    foreach (var (key, value) in extra)
    {
        start.Environment[key] = value;
    }
    var process = Process.Start(start)!;
    // The console logger writes every level to stdout: what went wrong is shown, the rest dropped.
    process.OutputDataReceived += (_, e) =>
    {
        if (e.Data is { } line && (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal)
            || line.Contains("Exception", StringComparison.Ordinal)))
        {
            Console.Error.WriteLine($"  host: {line}");
        }
    };
    process.ErrorDataReceived += (_, e) =>
    {
        if (e.Data is not null)
        {
            Console.Error.WriteLine($"  host: {e.Data}");
        }
    };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task WaitReady(HttpClient http)
{
    for (var i = 0; i < 300; i++)
    {
        try
        {
            if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(100);
    }

    throw new TimeoutException("The host did not become ready.");
}

/// <summary>A Kestrel receiver on loopback that answers 200 and records each delivery's webhook-id and arrival.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<(string Id, long At)> arrivals = new();
    private readonly ConcurrentDictionary<string, byte> succeeded = new();
    private DateTimeOffset? downUntil;

    private Receiver(WebApplication app) => this.app = app;

    public Uri Url { get; private set; } = null!;

    public IEnumerable<(string Id, long At)> Arrivals => arrivals;

    public static async Task<Receiver> Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/hook", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            var id = context.Request.Headers["webhook-id"].ToString();
            if (receiver.Failing)
            {
                return Results.StatusCode(500);
            }

            if (receiver.downUntil is { } until && DateTimeOffset.UtcNow < until)
            {
                context.Response.Headers.RetryAfter = until.ToString("R", CultureInfo.InvariantCulture);
                return Results.StatusCode(503);
            }

            if (id.Length > 0)
            {
                receiver.arrivals.Enqueue((id, Stopwatch.GetTimestamp()));
                receiver.succeeded.TryAdd(id, 0);
            }

            return Results.Ok();
        });
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First() + "/hook");
        return receiver;
    }

    /// <summary>Answers every delivery 500 (a broken target).</summary>
    public bool Failing { get; set; }

    /// <summary>Answers 503 with Retry-After (an HTTP date) until <paramref name="until"/>, as a site in maintenance does.</summary>
    public void Maintenance(DateTimeOffset until) => downUntil = until;

    public void Reset()
    {
        arrivals.Clear();
        succeeded.Clear();
    }

    /// <summary>Waits for this many arrivals (or, with <paramref name="ok"/>, this many distinct deliveries answered 200).</summary>
    public async Task WaitFor(int deliveries, TimeSpan timeout, bool ok = false)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var progress = Stopwatch.GetTimestamp();
        while ((ok ? succeeded.Count : arrivals.Count) < deliveries)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"{(ok ? succeeded.Count : arrivals.Count)} of {deliveries} deliveries arrived.");
            }

            if (Stopwatch.GetElapsedTime(progress) > TimeSpan.FromSeconds(10))
            {
                progress = Stopwatch.GetTimestamp();
                Console.WriteLine($"    {(ok ? succeeded.Count : arrivals.Count)} of {deliveries} delivered");
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
