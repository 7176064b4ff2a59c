using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Host.Postgres;
using Webhooks.Tests.Infrastructure;

// Each fault test starts processes and a PostgreSQL cluster of its own and loads two cores: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Webhooks.FaultTests.Infrastructure;

/// <summary>
/// One fault test's world: a PostgreSQL cluster of its own (restartable on the same port), host processes started
/// from the built host, and a publisher that behaves like a careful client: each event carries an Idempotency-Key
/// and is sent again, to any host still up, until one accepts it.
/// </summary>
public sealed class FaultRig : IAsyncDisposable
{
    public const string Application = "crm";
    public const string EventSource = "contactUpdated";
    private const string AdminKey = "fault-admin-key-0123456789";
    private const string PublisherKey = "fault-publisher-key-0123456789";

    private readonly string directory;
    private readonly List<HostProcess> hosts = [];
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private FaultRig(string directory, EmbeddedPostgres postgres)
    {
        this.directory = directory;
        Postgres = postgres;
        http.DefaultRequestHeaders.Authorization = new("Bearer", PublisherKey);
    }

    public EmbeddedPostgres Postgres { get; private set; }

    /// <summary>Every event the publisher got accepted: its id (the record's h_pk_id), by which host, the delivery ids of its answer, and when.</summary>
    public ConcurrentDictionary<string, (Uri AcceptedBy, Guid[] Deliveries, DateTime At)> Accepted { get; } = new();

    /// <summary>Why publishes had to be sent again (status code or exception), counted.</summary>
    public ConcurrentDictionary<string, int> Resent { get; } = new();

    /// <summary>Settings every host gets; a test adds or overrides its own.</summary>
    public Dictionary<string, string> Settings { get; } = [];

    public static Task<FaultRig> Start() => Task.Run(() =>
    {
        var directory = Repository.TempDirectory("faults");
        var rig = new FaultRig(directory, EmbeddedPostgres.Start(Path.Combine(directory, "pg")));
        rig.Settings["ASPNETCORE_ENVIRONMENT"] = "Production";
        rig.Settings["ConnectionStrings__Webhooks"] = rig.Postgres.ConnectionString;
        rig.Settings["Logging__LogLevel__Default"] = "Warning";
        rig.Settings["Webhooks__Auth__ApiKeys__admin__Key"] = AdminKey;
        rig.Settings["Webhooks__Auth__ApiKeys__admin__Roles__0"] = "admin";
        rig.Settings["Webhooks__Auth__ApiKeys__publisher__Key"] = PublisherKey;
        rig.Settings["Webhooks__Auth__ApiKeys__publisher__Roles__0"] = "publisher";
        rig.Settings["Webhooks__KeySafe__MasterKeys__faults"] = Convert.ToBase64String(new byte[32]);
        rig.Settings["Webhooks__Dispatch__AllowedNetworks__0"] = "127.0.0.0/8";
        rig.Settings["Webhooks__Dispatch__SchedulePollingInterval"] = "00:00:00.250";
        rig.Settings["Webhooks__Dispatch__DeadNodeTimeout"] = "00:00:03";
        rig.RetrySchedule(Enumerable.Repeat(TimeSpan.FromMilliseconds(250), 10));
        return rig;
    });

    public void RetrySchedule(IEnumerable<TimeSpan> delays)
    {
        foreach (var key in Settings.Keys.Where(k => k.StartsWith("Webhooks__Dispatch__RetrySchedule__", StringComparison.Ordinal)).ToList())
        {
            Settings.Remove(key);
        }

        var i = 0;
        foreach (var delay in delays)
        {
            Settings[$"Webhooks__Dispatch__RetrySchedule__{i++}"] = delay.ToString("c");
        }
    }

    /// <summary>Starts a host (on <paramref name="port"/> when given) and waits until it is ready.</summary>
    public async Task<HostProcess> StartHost(int? port = null)
    {
        var host = HostProcess.Start(directory, Settings, port ?? HostProcess.FreePort());
        hosts.Add(host);
        await host.WaitUntilReady(TimeSpan.FromSeconds(60));
        return host;
    }

    /// <summary>Stops PostgreSQL (fast: every session is ended), keeps it down a while, and starts it on the same port.</summary>
    public async Task RestartPostgres(TimeSpan down)
    {
        var port = Postgres.Port;
        await Task.Run(Postgres.Stop);
        await Task.Delay(down);
        Postgres = await Task.Run(() => EmbeddedPostgres.Start(Postgres.DataDirectory, port: port));
    }

    public static IWebhooksApi Admin(HostProcess host) => WebhooksClient.Create(host.Address, AdminKey);

    /// <summary>Registers the event source (once) and defines an async webhook to <paramref name="url"/>.</summary>
    public static async Task Define(HostProcess host, string name, Uri url)
    {
        var admin = Admin(host);
        await admin.RegisterEventSource(Application, EventSource, new RegisterEventSource("Contact", null, "update"));
        await admin.DefineWebhook(new DefineWebhook(name, null, Application, EventSource, true, null, url.ToString(), PayloadFormats.Json, PostModes.Async, null));
    }

    /// <summary>
    /// Waits until <paramref name="host"/> matches <paramref name="webhooks"/> webhooks: definitions reach every
    /// host's index asynchronously. Probes are events too (ids starting "probe-"); the checks leave them out.
    /// </summary>
    public async Task WaitUntilMatched(HostProcess host, int webhooks)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        for (var probe = 0; ; probe++)
        {
            var answer = await Send(host.Address, $"probe-{Guid.NewGuid():N}");
            if (answer.Deliveries.Length == webhooks)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{host.Address} matched {answer.Deliveries.Length} webhooks, not {webhooks}, after {probe + 1} probes.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Publishes events "0" ... "count-1" with <paramref name="parallel"/> callers. Each event goes to the host
    /// <paramref name="pick"/> chooses (by event number and attempt) and is sent again until one accepts it, as a
    /// client with an Idempotency-Key would; 4xx answers fail at once, but a 409 for a key still in flight.
    /// </summary>
    public Task PublishAll(int count, int parallel, Func<int, int, Uri> pick, TimeSpan? giveUpAfter = null)
    {
        var next = -1;
        var deadline = DateTime.UtcNow + (giveUpAfter ?? TimeSpan.FromMinutes(3));
        return Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await PublishOne(i, pick, deadline);
            }
        })));
    }

    /// <summary>
    /// Publishes events "0" ... "count-1" by <see cref="Group"/>: one caller per group, each publishing its group's
    /// events one after the other (the next once the previous is accepted), so each group has a publish order.
    /// </summary>
    public Task PublishAllByGroup(int count, Func<int, int, Uri> pick, TimeSpan? giveUpAfter = null)
    {
        var deadline = DateTime.UtcNow + (giveUpAfter ?? TimeSpan.FromMinutes(3));
        return Task.WhenAll(Enumerable.Range(0, Groups).Select(group => Task.Run(async () =>
        {
            for (var i = group; i < count; i += Groups)
            {
                await PublishOne(i, pick, deadline);
            }
        })));
    }

    /// <summary>The record field <c>group</c> of event <paramref name="id"/>: its number modulo <see cref="Groups"/> (probes have none).</summary>
    public static int? Group(string id) => int.TryParse(id, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n % Groups : null;

    /// <summary>How many values the records' <c>group</c> field takes.</summary>
    public const int Groups = 40;

    /// <summary>Sends event <paramref name="i"/> again until a host accepts it (or the deadline passes).</summary>
    private async Task PublishOne(int i, Func<int, int, Uri> pick, DateTime deadline)
    {
        var id = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (var attempt = 0; ; attempt++)
        {
            var address = pick(i, attempt);
            try
            {
                var answer = await Send(address, id);
                Accepted[id] = (address, answer.Deliveries, DateTime.UtcNow);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ServerError)
            {
                Resent.AddOrUpdate(e is ServerError server ? server.Answer : e.GetType().Name, 1, (_, n) => n + 1);
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Event {id} was not accepted by {deadline}: {e.Message}", e);
                }

                await Task.Delay(200);
            }
        }
    }

    /// <summary>
    /// Publishes events "0" ... "count-1" through <c>POST /events/batch</c>, <paramref name="batchSize"/> at a time with
    /// <paramref name="parallel"/> callers, each event with its Idempotency-Key, as a careful batch client would: a
    /// batch that fails (5xx, no answer) is sent again whole, and an event answered 409 (key in flight) or 503 is sent
    /// again in the next try; any other status but 202 fails.
    /// </summary>
    public Task PublishAllInBatches(int count, int batchSize, int parallel, Func<int, Uri> pick, TimeSpan? giveUpAfter = null)
    {
        var next = -1;
        var deadline = DateTime.UtcNow + (giveUpAfter ?? TimeSpan.FromMinutes(3));
        var batches = (count + batchSize - 1) / batchSize;
        return Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(async () =>
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches)
            {
                var waiting = Enumerable.Range(b * batchSize, Math.Min(batchSize, count - (b * batchSize)))
                    .Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
                for (var attempt = 0; waiting.Count > 0; attempt++)
                {
                    var address = pick(attempt);
                    try
                    {
                        waiting = await SendBatch(address, waiting);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ServerError)
                    {
                        Resent.AddOrUpdate(e is ServerError server ? server.Answer : e.GetType().Name, 1, (_, n) => n + 1);
                    }

                    if (waiting.Count > 0)
                    {
                        if (DateTime.UtcNow > deadline)
                        {
                            throw new TimeoutException($"Events {string.Join(", ", waiting.Take(5))}... were not accepted by {deadline}.");
                        }

                        await Task.Delay(200);
                    }
                }
            }
        })));
    }

    /// <summary>Sends one batch; returns the events to send again (409 in flight, 503).</summary>
    private async Task<List<string>> SendBatch(Uri host, List<string> ids)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host, "/events/batch"))
        {
            Content = JsonContent.Create(new
            {
                events = ids.Select(id => new { application = Application, eventSource = EventSource, actionBy = "faults", record = new { h_pk_id = id, group = Group(id) }, idempotencyKey = id }),
            }),
        };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode >= 500)
        {
            throw new ServerError($"batch {(int)response.StatusCode}", text);
        }

        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        var results = JsonDocument.Parse(text).RootElement.GetProperty("results").EnumerateArray().Select(r => r.Clone()).ToList();
        results.Count.ShouldBe(ids.Count);
        var again = new List<string>();
        for (var i = 0; i < ids.Count; i++)
        {
            var status = results[i].GetProperty("status").GetInt32();
            if (status == 202)
            {
                Accepted[ids[i]] = (host, results[i].GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()).ToArray(), DateTime.UtcNow);
            }
            else if (status is 409 or 503)
            {
                Resent.AddOrUpdate($"event {status}", 1, (_, n) => n + 1);
                again.Add(ids[i]);
            }
            else
            {
                throw new ShouldAssertException($"Event {ids[i]} was answered {results[i]}");
            }
        }

        return again;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }

        http.Dispose();
        await Task.Run(Postgres.Stop);
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task<(Guid[] Deliveries, JsonElement Body)> Send(Uri host, string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host, "/events"))
        {
            Content = JsonContent.Create(new { application = Application, eventSource = EventSource, actionBy = "faults", record = new { h_pk_id = id, group = Group(id) } }),
        };
        request.Headers.Add("Idempotency-Key", id);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        // 5xx, and 409 for a key whose first publish is still being made (or died with its host: its claim lapses
        // within 15 s): a careful client sends the event again.
        if ((int)response.StatusCode >= 500 || text.Contains("urn:webhooks:idempotency-key-in-flight", StringComparison.Ordinal))
        {
            var retryAfter = response.Headers.RetryAfter is { } after ? $" Retry-After: {after}" : "";
            throw new ServerError($"{(int)response.StatusCode}{retryAfter}", text);
        }

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, text);
        var body = JsonDocument.Parse(text).RootElement.Clone();
        return (body.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()).ToArray(), body);
    }

    /// <summary>A 5xx answer: its status and Retry-After (the key <see cref="Resent"/> counts by), and its body.</summary>
    private sealed class ServerError(string answer, string body) : Exception($"{answer}: {body}")
    {
        public string Answer { get; } = answer;
    }
}
