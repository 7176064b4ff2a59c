using System.Net;
using Microsoft.AspNetCore.Authorization;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;

namespace Webhooks.Host.Api;

/// <summary>
/// Telemetry (issue 16) with the OpenTelemetry SDK. Metrics always (Webhooks' own, and the ones ASP.NET Core, Kestrel,
/// HttpClient, Npgsql, Wolverine and Marten emit), scraped at <c>/metrics</c> in Prometheus' text format; traces when
/// they go somewhere: the standard <c>OTEL_EXPORTER_OTLP_*</c> variables send both over OTLP, and
/// <c>Webhooks:Telemetry:Tracing</c> records traces without an exporter of ours (for one added in code, as the tests
/// do). A publish, its sync calls, its commit and every async attempt, retries included, are one trace.
/// </summary>
public static class TelemetryExtensions
{
    public const string MetricsPolicy = "metrics";

    private static readonly string[] OtlpVariables = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"];
    private static readonly string[] OtlpTraceVariables = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];

    /// <summary>What <c>/metrics</c> and the traces take from configuration.</summary>
    public sealed record TelemetrySettings(bool Metrics, bool Tracing, bool Otlp, IReadOnlyList<IPNetwork> MetricsNetworks);

    public static WebApplicationBuilder AddWebhooksTelemetry(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var otlp = OtlpVariables.Any(name => !string.IsNullOrWhiteSpace(configuration[name]));
        // Traces when they have somewhere to go (a metrics endpoint alone sends metrics only), or when asked for.
        var tracing = OtlpTraceVariables.Any(name => !string.IsNullOrWhiteSpace(configuration[name])) || configuration.GetValue("Webhooks:Telemetry:Tracing", false);
        // Webhooks:Telemetry:Metrics:Enabled=false: no metrics at all (no /metrics, nothing exported); the benchmark's baseline.
        var metricsOn = configuration.GetValue("Webhooks:Telemetry:Metrics:Enabled", true);
        var settings = new TelemetrySettings(
            metricsOn, tracing, otlp, Networks(configuration.GetSection("Webhooks:Telemetry:Metrics:AllowedNetworks").Get<string[]>() ?? []));
        var ratio = configuration.GetValue("Webhooks:Telemetry:TraceSampleRatio", 0.1);
        if (ratio is < 0 or > 1)
        {
            throw new StartupException($"Webhooks:Telemetry:TraceSampleRatio must be between 0 and 1 (the share of publishes traced); it is {ratio}.");
        }

        builder.Services.AddSingleton(settings);
        if (!metricsOn && !tracing)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "webhooks"));
        if (metricsOn)
        {
            telemetry.WithMetrics(metrics => metrics
                .AddMeter(Telemetry.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "Npgsql", "Wolverine*", "Marten*")
                .AddPrometheusExporter());
        }

        if (tracing)
        {
            telemetry.WithTracing(traces =>
            {
                traces.AddSource(Telemetry.Name, "Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "Wolverine*", "Marten*");
                if (string.IsNullOrWhiteSpace(configuration["OTEL_TRACES_SAMPLER"]))
                {
                    // A tenth of publishes traced whole by default (and every one whose caller's trace is sampled): each
                    // traced delivery records a dozen spans, which at thousands a second costs more than the rest of the
                    // telemetry together (docs/benchmarks.md). OTEL_TRACES_SAMPLER or this ratio change it.
                    traces.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)));
                }
            });
        }

        if (otlp)
        {
            // Every signal to the collector the standard variables name (endpoint, protocol, headers).
            telemetry.UseOtlpExporter();
        }

        builder.Services.AddAuthorizationBuilder().AddPolicy(MetricsPolicy, policy => policy.RequireAssertion(context =>
            context.User.IsInRole(Roles.Metrics) || context.User.IsInRole(Roles.Admin)
            || (context.Resource is HttpContext http && http.Connection.RemoteIpAddress is { } address
                && settings.MetricsNetworks.Any(network => network.Contains(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address)))));
        return builder;
    }

    /// <summary>
    /// <c>/metrics</c>: for a key with the metrics (or admin) role, or any caller from <c>Webhooks:Telemetry:Metrics:AllowedNetworks</c>
    /// (where a Prometheus server scrapes from, without a key); never anonymous to the world.
    /// </summary>
    public static WebApplication MapWebhooksMetrics(this WebApplication app)
    {
        if (app.Services.GetRequiredService<TelemetrySettings>().Metrics)
        {
            app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(MetricsPolicy);
        }

        return app;
    }

    private static List<IPNetwork> Networks(string[] configured)
    {
        var networks = new List<IPNetwork>();
        foreach (var cidr in configured)
        {
            if (!IPNetwork.TryParse(cidr, out var network))
            {
                throw new StartupException($"Webhooks:Telemetry:Metrics:AllowedNetworks: '{cidr}' is not a network in CIDR notation (e.g. 10.0.0.0/8).");
            }

            networks.Add(network);
        }

        return networks;
    }
}
