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
var events = quick ? 2000 : 10000;
var syncSamples = quick ? 200 : 1000;
const int concurrency = 32;
var results = new List<(string Name, string Value)>();
void Report(string name, string value)
{
    results.Add((name, value));
    Console.WriteLine($"  {name}: {value}");
}

var work = Path.Combine(Path.GetTempPath(), $"webhooks-bench-{Guid.NewGuid():N}");
Console.WriteLine($"Starting PostgreSQL in {work} ...");
var postgres = EmbeddedPostgres.Start(Path.Combine(work, "pg"));
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

    var body = JsonSerializer.Serialize(new { h_pk_id = "103", h_name = "Gary", h_email = "g@example.com", h_jobtitle = "test" });
    using var bare = new HttpClient();

    Console.WriteLine("1. Ceiling: bare HttpClient POSTs to the receiver");
    await Loop(Math.Min(events, 1000), concurrency, _ => bare.PostAsync(receiver.Url, new StringContent(body)));
    var ceilingTime = await Loop(events, concurrency, _ => bare.PostAsync(receiver.Url, new StringContent(body)));
    var ceiling = events / ceilingTime.TotalSeconds;
    Report("ceiling (requests/s)", ceiling.ToString("0", CultureInfo.InvariantCulture));

    Console.WriteLine("2. Async end to end: publish over HTTP, one async webhook, until every delivery arrived");
    using var publisher = new HttpClient { BaseAddress = address };
    publisher.DefaultRequestHeaders.Authorization = new("Bearer", "bench-publisher-key-0123456789");
    var published = new ConcurrentDictionary<string, long>();
    receiver.Reset();
    var started = Stopwatch.GetTimestamp();
    await Loop(events, concurrency, async _ =>
    {
        var sent = Stopwatch.GetTimestamp();
        var response = await publisher.PostAsJsonAsync("/events", new { application = "bench", eventSource = "async", actionBy = "bench", record = JsonDocument.Parse(body).RootElement });
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        published[answer.GetProperty("deliveries")[0].GetProperty("id").GetString()!] = sent;
        return response;
    });
    var publishTime = Stopwatch.GetElapsedTime(started);
    Report("publishes/s (202 answered)", (events / publishTime.TotalSeconds).ToString("0", CultureInfo.InvariantCulture));
    await receiver.WaitFor(events, TimeSpan.FromMinutes(10));
    var asyncTime = Stopwatch.GetElapsedTime(started);
    var throughput = events / asyncTime.TotalSeconds;
    var latencies = receiver.Arrivals.Where(a => published.ContainsKey(a.Id))
        .Select(a => Stopwatch.GetElapsedTime(published[a.Id], a.At).TotalMilliseconds).Order().ToArray();
    Report("async deliveries/s", throughput.ToString("0", CultureInfo.InvariantCulture));
    Report("async / ceiling", (throughput / ceiling).ToString("P1", CultureInfo.InvariantCulture));
    Report("publish-to-receipt p50 (ms)", Percentile(latencies, 0.5).ToString("0.0", CultureInfo.InvariantCulture));
    Report("publish-to-receipt p99 (ms)", Percentile(latencies, 0.99).ToString("0.0", CultureInfo.InvariantCulture));

    Console.WriteLine("3. Sync overhead: POST /events with one sync webhook, one at a time, against a direct POST");
    var direct = new List<double>();
    var viaSync = new List<double>();
    for (var i = 0; i < syncSamples; i++)
    {
        var t = Stopwatch.GetTimestamp();
        (await bare.PostAsync(receiver.Url, new StringContent(body))).EnsureSuccessStatusCode();
        direct.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        t = Stopwatch.GetTimestamp();
        (await publisher.PostAsJsonAsync("/events", new { application = "bench", eventSource = "sync", record = JsonDocument.Parse(body).RootElement })).EnsureSuccessStatusCode();
        viaSync.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    }

    var (d, s) = (direct.Order().ToArray(), viaSync.Order().ToArray());
    Report("direct POST p50 / p99 (ms)", $"{Percentile(d, 0.5):0.00} / {Percentile(d, 0.99):0.00}");
    Report("sync publish p50 / p99 (ms)", $"{Percentile(s, 0.5):0.00} / {Percentile(s, 0.99):0.00}");
    Report("sync overhead p50 (ms)", (Percentile(s, 0.5) - Percentile(d, 0.5)).ToString("0.00", CultureInfo.InvariantCulture));

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

    Console.WriteLine("5. Matching: publish cost with non-matching webhooks (on another event source) defined");
    await api.RegisterEventSource("bench", "other", new RegisterEventSource("Contact", null, EntityEvents.Updated));
    await api.RegisterEventSource("bench", "lonely", new RegisterEventSource("Contact", null, EntityEvents.Updated));
    var others = 0;
    foreach (var count in quick ? new[] { 10, 1000 } : new[] { 10, 1000, 5000 })
    {
        for (; others < count; others++)
        {
            await api.DefineWebhook(new DefineWebhook($"other-{others}", null, "bench", "other", true, null, receiver.Url.ToString(), "json", "async", null));
        }

        await Task.Delay(1000);
        var samples = new List<double>();
        for (var i = 0; i < syncSamples; i++)
        {
            var t = Stopwatch.GetTimestamp();
            (await publisher.PostAsJsonAsync("/events", new { application = "bench", eventSource = "lonely", record = JsonDocument.Parse(body).RootElement })).EnsureSuccessStatusCode();
            samples.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        Report($"{count} non-matching webhooks: publish p50 (ms)", Percentile(samples.Order().ToArray(), 0.5).ToString("0.00", CultureInfo.InvariantCulture));
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
    try
    {
        Directory.Delete(work, recursive: true);
    }
    catch (IOException)
    {
    }
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

static Process StartHost(string connection, out Uri address)
{
    using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
    {
        probe.Start();
        address = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)probe.LocalEndpoint).Port}");
    }

    var dll = Path.Combine(AppContext.BaseDirectory, "Webhooks.Host.dll");
    var start = new ProcessStartInfo("dotnet") { ArgumentList = { dll }, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
    start.Environment["ASPNETCORE_URLS"] = address.ToString();
    start.Environment["ConnectionStrings__Webhooks"] = connection;
    start.Environment["Logging__LogLevel__Default"] = "Warning";
    start.Environment["Webhooks__Auth__ApiKeys__admin__Key"] = "bench-admin-key-0123456789";
    start.Environment["Webhooks__Auth__ApiKeys__admin__Roles__0"] = "admin";
    start.Environment["Webhooks__Auth__ApiKeys__publisher__Key"] = "bench-publisher-key-0123456789";
    start.Environment["Webhooks__Auth__ApiKeys__publisher__Roles__0"] = "publisher";
    start.Environment["Webhooks__KeySafe__MasterKeys__bench"] = Convert.ToBase64String(new byte[32]);
    start.Environment["Webhooks__Dispatch__AllowedNetworks__0"] = "127.0.0.0/8";
    var process = Process.Start(start)!;
    process.OutputDataReceived += (_, _) => { };
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
    private int count;

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
            if (context.Request.Headers["webhook-id"].ToString() is { Length: > 0 } id)
            {
                receiver.arrivals.Enqueue((id, Stopwatch.GetTimestamp()));
            }

            Interlocked.Increment(ref receiver.count);
            return Results.Ok();
        });
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First() + "/hook");
        return receiver;
    }

    public void Reset()
    {
        arrivals.Clear();
        count = 0;
    }

    public async Task WaitFor(int deliveries, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (arrivals.Count < deliveries)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"{arrivals.Count} of {deliveries} deliveries arrived.");
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
