using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Alba;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Platform;

/// <summary>
/// Issue 16: telemetry. A publish and every attempt of its async delivery, the retry included, are one trace (an
/// in-memory exporter records it); each attempt sends its W3C traceparent to the target (unless told not to); and
/// <c>/metrics</c> answers what Prometheus' own text-format parser (Debian's python3-prometheus-client) reads, to a key
/// with the metrics or admin role only.
/// </summary>
[Collection(SharedHost.Name)]
public sealed class when_observing_the_service
{
    /// <summary>What the in-memory exporter records, under one lock (spans arrive from background work all the time).</summary>
    private sealed class Spans : ICollection<Activity>
    {
        private readonly List<Activity> spans = [];

        public int Count { get { lock (spans) { return spans.Count; } } }

        public bool IsReadOnly => false;

        public void Add(Activity item) { lock (spans) { spans.Add(item); } }

        public void Clear() { lock (spans) { spans.Clear(); } }

        public bool Contains(Activity item) { lock (spans) { return spans.Contains(item); } }

        public void CopyTo(Activity[] array, int arrayIndex) { lock (spans) { spans.CopyTo(array, arrayIndex); } }

        public bool Remove(Activity item) { lock (spans) { return spans.Remove(item); } }

        public List<Activity> Snapshot() { lock (spans) { return [.. spans]; } }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class Arrivals
    {
        public ConcurrentQueue<string?> TraceParents { get; } = new();
        public int Calls;
    }

    private static async Task<(IAlbaHost Host, Receiver Receiver, Arrivals Arrivals)> Started(
        string purpose, Spans? spans, bool sendTraceContext = true)
    {
        var arrivals = new Arrivals();
        var receiver = await Receiver.Start();
        receiver.Respond = (context, _) =>
        {
            arrivals.TraceParents.Enqueue(context.Request.Headers.TryGetValue("traceparent", out var header) ? header.ToString() : null);
            // The first call fails: the delivery is retried.
            context.Response.StatusCode = Interlocked.Increment(ref arrivals.Calls) == 1 ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
            return Task.CompletedTask;
        };
        var settings = await AppFixture.OwnDatabase(purpose);
        settings["Webhooks:Telemetry:Tracing"] = "true";
        settings["Webhooks:Telemetry:TraceSampleRatio"] = "1";
        settings["Webhooks:Dispatch:SendTraceContext"] = sendTraceContext ? "true" : "false";
        var host = await AppFixture.StartHost(settings, configure: services =>
        {
            if (spans is not null)
            {
                services.ConfigureOpenTelemetryTracerProvider(traces => traces.AddInMemoryExporter(spans));
            }
        });
        await host.Define(DefinitionsSetup.Webhook("traced") with { Url = receiver.Url.ToString() });
        return (host, receiver, arrivals);
    }

    private static async Task<Guid> Publish(IAlbaHost host)
    {
        var answer = await Poll.Until(async () =>
        {
            var result = await host.Scenario(s =>
            {
                s.WithKey(TestKeys.Publisher);
                s.Post.Json(DispatchSetup.Event()).ToUrl("/events");
                s.StatusCodeShouldBe(HttpStatusCode.Accepted);
            });
            return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
        }, a => a.GetProperty("deliveries").GetArrayLength() == 1, TimeSpan.FromSeconds(10));
        return answer.GetProperty("eventId").GetGuid();
    }

    [Fact]
    public async Task a_publish_and_every_attempt_of_its_delivery_are_one_trace_and_the_target_joins_it()
    {
        var spans = new Spans();
        var (host, receiver, arrivals) = await Started("traces", spans);
        await using (host)
        await using (receiver)
        {
            var eventId = await Publish(host);
            await Poll.Until(() => Task.FromResult(Volatile.Read(ref arrivals.Calls)), calls => calls >= 2, TimeSpan.FromSeconds(20));

            List<Activity> Snapshot() => spans.Snapshot();

            var publish = Snapshot().Single(a => a.OperationName == "webhooks.publish" && (string?)a.GetTagItem("webhooks.event.id") == eventId.ToString());
            var attempts = await Poll.Until(
                () => Task.FromResult(Snapshot().Where(a => a.OperationName == "webhooks.deliver" && a.TraceId == publish.TraceId).ToList()),
                found => found.Count >= 2, TimeSpan.FromSeconds(10));

            // The publish is a span of the request that made it; each attempt a child of the publish, in its trace.
            publish.Parent?.OperationName.ShouldNotBeNull();
            attempts.ShouldAllBe(a => a.ParentSpanId == publish.SpanId);
            attempts.Select(a => a.GetTagItem("webhooks.delivery.attempt")).ShouldBe([1, 2], ignoreOrder: true);
            var failed = attempts.Single(a => (int)a.GetTagItem("webhooks.delivery.attempt")! == 1);
            failed.Status.ShouldBe(ActivityStatusCode.Error);
            failed.GetTagItem("http.response.status_code").ShouldBe(500);
            attempts.Single(a => (int)a.GetTagItem("webhooks.delivery.attempt")! == 2).GetTagItem("webhooks.outcome").ShouldBe("success");

            // The target got each attempt's W3C trace context: our trace, the call's own span under the attempt.
            var received = arrivals.TraceParents.ToList();
            received.Count.ShouldBeGreaterThanOrEqualTo(2);
            foreach (var traceParent in received)
            {
                ActivityContext.TryParse(traceParent, null, out var context).ShouldBeTrue(traceParent ?? "no traceparent");
                context.TraceId.ShouldBe(publish.TraceId);
                var call = Snapshot().Single(a => a.SpanId == context.SpanId);
                attempts.Select(a => a.SpanId).ShouldContain(call.ParentSpanId, "the call is a child of its attempt");
            }
        }
    }

    [Fact]
    public async Task with_send_trace_context_off_the_target_gets_no_traceparent()
    {
        var (host, receiver, arrivals) = await Started("untraced", spans: null, sendTraceContext: false);
        await using (host)
        await using (receiver)
        {
            await Publish(host);
            await Poll.Until(() => Task.FromResult(Volatile.Read(ref arrivals.Calls)), calls => calls >= 2, TimeSpan.FromSeconds(20));
            arrivals.TraceParents.ShouldAllBe(header => header == null);
        }
    }

    [Fact]
    public async Task metrics_are_scraped_in_prometheus_text_format_and_read_by_prometheus_own_parser()
    {
        var (host, receiver, arrivals) = await Started("metrics", spans: null);
        await using (host)
        await using (receiver)
        {
            await Publish(host);
            await Poll.Until(() => Task.FromResult(Volatile.Read(ref arrivals.Calls)), calls => calls >= 2, TimeSpan.FromSeconds(20));

            // The successful attempt is counted once its commit is done: scrape until it is there.
            var families = await Poll.Until(async () => await Parse(await Scrape(host, TestKeys.For(Contracts.Roles.Metrics))),
                f => f.TryGetValue("webhooks_deliveries_ended", out var delivered) && delivered.Samples.Any(s => s.Labels.GetValueOrDefault("webhook") == "traced"),
                TimeSpan.FromSeconds(15));

            families["webhooks_delivery_attempts"].Type.ShouldBe("counter");
            var attempts = families["webhooks_delivery_attempts"].Samples.Where(s => s.Labels.GetValueOrDefault("webhook") == "traced").ToList();
            attempts.Single(s => s.Labels["outcome"] == "failure").Value.ShouldBe(1);
            attempts.Single(s => s.Labels["outcome"] == "success").Value.ShouldBe(1);
            families["webhooks_deliveries_ended"].Samples.Single(s => s.Labels.GetValueOrDefault("webhook") == "traced").Labels["outcome"].ShouldBe("succeeded");
            families["webhooks_delivery_attempt_duration_seconds"].Type.ShouldBe("histogram");
            families["webhooks_publish_duration_seconds"].Samples.ShouldContain(s => s.Labels.GetValueOrDefault("verdict") == "accepted");
            families["webhooks_deliveries_pending"].Type.ShouldBe("gauge");
            families["webhooks_breakers"].Samples.Select(s => s.Labels["state"]).ShouldBe(["closed", "halfOpen", "open"], ignoreOrder: true);
            families["webhooks_group_commit_size"].Type.ShouldBe("histogram");
            families.Keys.ShouldContain("webhooks_keysafe_decryptions");
            families.Keys.ShouldContain("http_server_request_duration_seconds"); // ASP.NET Core's own

            // Its own role or admin; not anonymous, not another role.
            (await Send(host, null)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await Send(host, TestKeys.Auditor)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await Send(host, TestKeys.Admin)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task traces_are_sampled_by_the_configured_ratio()
    {
        var spans = new Spans();
        var settings = await AppFixture.OwnDatabase("sampling");
        settings["Webhooks:Telemetry:Tracing"] = "true";
        settings["Webhooks:Telemetry:TraceSampleRatio"] = "0";
        await using var host = await AppFixture.StartHost(settings, configure: services =>
            services.ConfigureOpenTelemetryTracerProvider(traces => traces.AddInMemoryExporter(spans)));

        for (var i = 0; i < 20; i++)
        {
            await host.Scenario(s =>
            {
                s.WithKey(TestKeys.Admin);
                s.Get.Url("/applications");
                s.StatusCodeShouldBeOk();
            });
        }

        spans.Snapshot().ShouldBeEmpty("a ratio of 0 traces nothing that did not come with a sampled trace");
    }

    private static async Task<HttpResponseMessage> Send(IAlbaHost host, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (key is not null)
        {
            request.Headers.Authorization = new("Bearer", key);
        }

        return await host.Server.CreateClient().SendAsync(request);
    }

    private static async Task<string> Scrape(IAlbaHost host, string key)
    {
        using var response = await Send(host, key);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        return await response.Content.ReadAsStringAsync();
    }

    internal sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);

    internal sealed record Family(string Type, List<Sample> Samples);

    /// <summary>
    /// The scrape as Prometheus' reference client library parses it (Debian's python3-prometheus-client; .ci/run
    /// installs it): families by name, with their type and samples. A text it cannot parse fails here.
    /// </summary>
    internal static async Task<Dictionary<string, Family>> Parse(string scrape)
    {
        const string Script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(sys.stdin.read()):
                out[family.name] = {"type": family.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]}
            print(json.dumps(out))
            """;
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        using var parser = Process.Start(start)!;
        await parser.StandardInput.WriteAsync(scrape);
        parser.StandardInput.Close();
        var output = await parser.StandardOutput.ReadToEndAsync();
        var error = await parser.StandardError.ReadToEndAsync();
        await parser.WaitForExitAsync();
        parser.ExitCode.ShouldBe(0, $"Prometheus' parser refused the scrape: {error}");
        using var parsed = JsonDocument.Parse(output);
        return parsed.RootElement.EnumerateObject().ToDictionary(
            f => f.Name,
            f => new Family(
                f.Value.GetProperty("type").GetString()!,
                [.. f.Value.GetProperty("samples").EnumerateArray().Select(s => new Sample(
                    s.GetProperty("name").GetString()!,
                    s.GetProperty("labels").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
                    s.GetProperty("value").GetDouble()))]));
    }
}
