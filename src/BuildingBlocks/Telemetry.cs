using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Webhooks.BuildingBlocks;

/// <summary>
/// What Webhooks itself adds to the telemetry ASP.NET Core, HttpClient, Npgsql, Wolverine and Marten already emit
/// (issue 16): one activity source and one meter, both named <see cref="Name"/>, and the instruments every module
/// counts with. Names and units follow the OpenTelemetry semantic conventions' style (dotted lower case, seconds,
/// <c>{delivery}</c>-style units); the Prometheus endpoint turns <c>webhooks.delivery.attempts</c> into
/// <c>webhooks_delivery_attempts_total</c>. A counter or histogram nobody listens to costs next to nothing.
/// </summary>
public static class Telemetry
{
    public const string Name = "Webhooks";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Calls made to targets, by webhook and outcome (<c>success</c>, <c>failure</c>).</summary>
    public static readonly Counter<long> Attempts = Meter.CreateCounter<long>(
        "webhooks.delivery.attempts", "{attempt}", "Calls made to webhooks' targets (async deliveries' attempts), by webhook and outcome.");

    /// <summary>How long a call to a target took, by outcome (not by webhook: a histogram per webhook is a dozen series each).</summary>
    public static readonly Histogram<double> AttemptDuration = Meter.CreateHistogram<double>(
        "webhooks.delivery.attempt.duration", "s", "How long a call to a webhook's target took, by outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    /// <summary>Deliveries that ended, by webhook and outcome (<c>succeeded</c>, <c>failed</c>).</summary>
    public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>(
        "webhooks.deliveries.ended", "{delivery}", "Async deliveries that ended, by webhook and outcome (succeeded, or failed for good).");

    /// <summary>How long a publish took, from its arrival to its answer, by verdict.</summary>
    public static readonly Histogram<double> PublishDuration = Meter.CreateHistogram<double>(
        "webhooks.publish.duration", "s", "How long publishing an event took until its answer (sync calls and the commit included), by verdict (batch: a whole batch).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10] });

    /// <summary>How many publishes, attempts and other writes one group commit recorded together.</summary>
    public static readonly Histogram<int> GroupCommitSize = Meter.CreateHistogram<int>(
        "webhooks.group_commit.size", "{write}", "How many writes (publishes, attempts' outcomes) one group commit recorded in one transaction.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500] });

    /// <summary>Secrets KeySafe decrypted (keys' credentials, signing secrets); cached ones are not decrypted again.</summary>
    public static readonly Counter<long> Decryptions = Meter.CreateCounter<long>(
        "webhooks.keysafe.decryptions", "{decryption}", "Secrets KeySafe decrypted (keys' credentials and signing secrets; a cached secret is not decrypted again).");

    /// <summary>Events whose payload (record, response excerpt) retention removed.</summary>
    public static readonly Counter<long> RetentionPayloadsRemoved = Meter.CreateCounter<long>(
        "webhooks.retention.payloads.removed", "{event}", "Events whose payload (an event's record, an attempt's response excerpt) retention removed.");

    /// <summary>Deliveries whose records retention moved to the archive.</summary>
    public static readonly Counter<long> RetentionDeliveriesArchived = Meter.CreateCounter<long>(
        "webhooks.retention.deliveries.archived", "{delivery}", "Deliveries whose records retention moved from the delivery log to the archive.");

    /// <summary>Event streams and ledgers retention moved to the archive.</summary>
    public static readonly Counter<long> RetentionStreamsArchived = Meter.CreateCounter<long>(
        "webhooks.retention.streams.archived", "{stream}", "Streams (published events with their deliveries, commits' ledgers) retention moved to the archive.");
}
