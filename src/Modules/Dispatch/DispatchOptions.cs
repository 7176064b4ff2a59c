using System.Net;
using Microsoft.Extensions.Options;

namespace Webhooks.Dispatch;

/// <summary>When the answer to a publish with no async delivery waits for its record (event, sync calls) to be committed.</summary>
public enum SyncRecording
{
    /// <summary>The answer comes after the commit: the history has every answered publish, even if the host dies next.</summary>
    Durable,

    /// <summary>
    /// The answer comes right after the sync calls; the record is committed in the next group commit (milliseconds).
    /// A host that dies in between loses that record (not the calls, nor any async delivery: those always wait).
    /// </summary>
    Deferred,
}

/// <summary><c>Webhooks:Dispatch</c> settings (API.md's configuration table).</summary>
public sealed class DispatchOptions
{
    public static readonly TimeSpan[] DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(5),
        TimeSpan.FromHours(10), TimeSpan.FromHours(14), TimeSpan.FromHours(20), TimeSpan.FromHours(24),
    ];

    /// <summary>Delays before each retry of an async delivery; the attempt after the last is the last one.</summary>
    /// <remarks>Null until configured: the configuration binder appends to an array it finds filled.</remarks>
    public TimeSpan[]? RetrySchedule { get; set; }

    public TimeSpan[] Schedule => RetrySchedule ?? DefaultRetrySchedule;

    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether a publish with sync webhooks only waits for its record's commit before answering (Durable).</summary>
    public SyncRecording SyncRecording { get; set; } = SyncRecording.Durable;

    public TimeSpan AsyncTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>CIDR ranges outbound calls may reach although the SSRF guard would refuse them (private, loopback...).</summary>
    public string[] AllowedNetworks { get; set; } = [];

    public long MaxEventBytes { get; set; } = 262_144;

    /// <summary>The largest body <c>POST /events/batch</c> takes (each event's record is still held to <see cref="MaxEventBytes"/>).</summary>
    public long MaxBatchBytes { get; set; } = 8_388_608;

    /// <summary>How many events of a batch are prepared at once (their Idempotency-Keys claimed, their sync webhooks called).</summary>
    public int BatchParallelism { get; set; } = 16;

    /// <summary>An HTTP proxy for outbound calls (http://host:port). Environment proxies are ignored; the address guard still judges each target.</summary>
    public string? Proxy { get; set; }

    /// <summary>
    /// A PEM file of certificate authorities trusted for targets' TLS certificates besides the system's (a private CA
    /// inside a company); the host name must still match. Null: the system's trust store only.
    /// </summary>
    public string? TrustedCertificateAuthorities { get; set; }

    /// <summary>How many calls may be in flight to one target (scheme, host and port) at once.</summary>
    public int MaxConcurrencyPerTarget { get; set; } = 16;

    /// <summary>Whether each attempt sends its W3C trace context (<c>traceparent</c>) to the target (issue 16).</summary>
    public bool SendTraceContext { get; set; } = true;

    /// <summary>A target's Retry-After is honoured up to this long.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Retries are spread by up to this fraction of their delay, so failed bursts do not come back together.</summary>
    public double RetryJitter { get; set; } = 0.2;

    /// <summary>How long resolved credentials and signing secrets are kept in memory (changes drop them at once).</summary>
    public TimeSpan SecretCacheLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a commit waits for more writes to join it. Zero (the default) waits not at all: writes that arrive while
    /// a commit runs form the next batch, so batches grow with load and an idle host adds no latency.
    /// </summary>
    public TimeSpan GroupCommitWindow { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How many group commits may run at once. One keeps batches largest; more let the next batch commit while the
    /// previous one waits on the database.
    /// </summary>
    public int GroupCommitters { get; set; } = 1;

    /// <summary>
    /// How many deliveries may wait on one node (in its queue, or committed and on their way there) before publishes
    /// that would add more are refused with 503 and Retry-After. Deliveries waiting for a retry are in the database and
    /// do not count until they are due.
    /// </summary>
    public int MaxBacklog { get; set; } = 20_000;

    /// <summary>How many writes may wait for the group commit before publishes are refused with 503 and Retry-After.</summary>
    public int MaxCommitQueue { get; set; } = 10_000;

    /// <summary>
    /// How long a stage of the pipeline (group commit, delivery queue) may make no progress while work waits before
    /// readiness fails. Longer than the call timeouts: a handler may legitimately wait that long on a target.
    /// </summary>
    /// <remarks>Null until configured: then 90 s, or the longer call timeout plus 30 s.</remarks>
    public TimeSpan? StallTimeout { get; set; }

    public TimeSpan Stall => StallTimeout ?? TimeSpan.FromTicks(Math.Max(
        TimeSpan.FromSeconds(90).Ticks, Math.Max(AsyncTimeout.Ticks, SyncTimeout.Ticks) + TimeSpan.FromSeconds(30).Ticks));

    /// <summary>
    /// How long Wolverine lets a message handler run before it cancels it: its default (60 s), or AsyncTimeout + 30 s
    /// when that is longer, since a delivery handler waits for its call (a batch's, for all of its calls) up to
    /// AsyncTimeout; cut short, slow calls would be made again.
    /// </summary>
    public TimeSpan HandlerTimeout => TimeSpan.FromTicks(Math.Max(
        TimeSpan.FromSeconds(60).Ticks, AsyncTimeout.Ticks + TimeSpan.FromSeconds(30).Ticks));

    /// <summary>
    /// How often persisted retries and step-asides that are due are looked for (the precision of the retry schedule).
    /// Each look claims up to 1,000, so this also bounds how fast a backlog of retries drains: 1 s drained ~1,000
    /// deliveries/s, 250 ms 3,800-4,200 (issue 14); a look finds nothing in an index when nothing is due (idle, 250 ms costs
    /// ~1 % of a core more than 1 s, host and PostgreSQL together).
    /// </summary>
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a node may go without a heartbeat before the others take over its accepted deliveries (a host killed
    /// or cut off). Shorter recovers sooner; too short may take work from a node that is only slow.
    /// </summary>
    public TimeSpan DeadNodeTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often each node writes its heartbeat: a sixth of <see cref="DeadNodeTimeout"/>, between 1 and 10 seconds.</summary>
    public TimeSpan HeartbeatInterval => TimeSpan.FromTicks(Math.Clamp(DeadNodeTimeout.Ticks / 6, TimeSpan.TicksPerSecond, 10 * TimeSpan.TicksPerSecond));

    /// <summary>The <see cref="AllowedNetworks"/> that parse (the validator names those that do not).</summary>
    public IReadOnlyList<IPNetwork> ParsedAllowedNetworks =>
        AllowedNetworks.Select(cidr => IPNetwork.TryParse(cidr, out var network) ? network : (IPNetwork?)null).OfType<IPNetwork>().ToList();

    /// <summary>Each webhook's circuit breaker (<c>Webhooks:Dispatch:Breaker</c>).</summary>
    public BreakerOptions Breaker { get; set; } = new();

    public const string Section = "Webhooks:Dispatch";
}

/// <summary><c>Webhooks:Dispatch:Breaker</c>: when a webhook's breaker opens, and how long its deliveries then wait.</summary>
public sealed class BreakerOptions
{
    /// <summary>Failed async attempts in a row (on one host) that open the breaker. 429 answers and refusals before sending do not count.</summary>
    public int FailureThreshold { get; set; } = 10;

    /// <summary>How long deliveries wait after the breaker opens before one is let through as a probe.</summary>
    public TimeSpan CoolDown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The cool-down doubles with each failed probe, up to this.</summary>
    public TimeSpan MaxCoolDown { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A webhook whose target has failed continuously this long (from the first failure of the run that opened its
    /// breaker, at a failed probe) is disabled by the system; its deliveries are kept. Zero: never.
    /// </summary>
    public TimeSpan AutoDisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>The cool-down after <paramref name="failedProbes"/> failed probes: doubled each time, at most <see cref="MaxCoolDown"/>.</summary>
    public TimeSpan CoolDownAfter(int failedProbes) =>
        TimeSpan.FromTicks((long)Math.Min(MaxCoolDown.Ticks, CoolDown.Ticks * Math.Pow(2, Math.Clamp(failedProbes, 0, 30))));
}

/// <summary>Every rule <c>Webhooks:Dispatch</c> must follow, checked before the host starts; each failure says how to fix it.</summary>
public sealed class DispatchOptionsValidator : IValidateOptions<DispatchOptions>
{
    public ValidateOptionsResult Validate(string? name, DispatchOptions options)
    {
        var problems = new List<string>();
        foreach (var cidr in options.AllowedNetworks.Where(cidr => !IPNetwork.TryParse(cidr, out _)))
        {
            problems.Add($"AllowedNetworks: '{cidr}' is not a CIDR range such as 10.0.0.0/8 or ::1/128.");
        }

        if (options.Proxy is { Length: > 0 } proxy
            && (!Uri.TryCreate(proxy, UriKind.Absolute, out var proxyUri) || proxyUri.Scheme is not ("http" or "https")))
        {
            problems.Add($"Proxy: '{proxy}' is not an absolute http(s) URL such as http://proxy.internal:3128.");
        }

        if (options.Breaker.FailureThreshold < 1 || options.Breaker.CoolDown <= TimeSpan.Zero || options.Breaker.MaxCoolDown < options.Breaker.CoolDown)
        {
            problems.Add("Breaker: FailureThreshold must be at least 1, CoolDown positive, and MaxCoolDown at least CoolDown.");
        }

        if (options.Breaker.AutoDisableAfter < TimeSpan.Zero)
        {
            problems.Add("Breaker:AutoDisableAfter must not be negative (zero: never).");
        }

        if (options.TrustedCertificateAuthorities is { Length: > 0 } authorities && !File.Exists(authorities))
        {
            problems.Add($"TrustedCertificateAuthorities: there is no file '{authorities}' (a PEM file of CA certificates).");
        }

        if (options.Schedule.Any(d => d < TimeSpan.Zero))
        {
            problems.Add("RetrySchedule: delays must not be negative.");
        }

        if (options.SyncTimeout <= TimeSpan.Zero || options.AsyncTimeout <= TimeSpan.Zero)
        {
            problems.Add("SyncTimeout and AsyncTimeout must be positive.");
        }

        if (options.DeadNodeTimeout < TimeSpan.FromSeconds(2))
        {
            problems.Add("DeadNodeTimeout must be at least 2 seconds (00:00:02).");
        }

        if (options.GroupCommitters is < 1 or > 16)
        {
            problems.Add("GroupCommitters must be between 1 and 16.");
        }

        if (options.MaxBacklog < 1 || options.MaxCommitQueue < 1)
        {
            problems.Add("MaxBacklog and MaxCommitQueue must be at least 1.");
        }

        if (options.StallTimeout is { } stall && (stall <= options.AsyncTimeout || stall <= options.SyncTimeout))
        {
            problems.Add("StallTimeout must be longer than AsyncTimeout and SyncTimeout (a call may take that long).");
        }

        if (options.MaxEventBytes < 1024 || options.MaxConcurrencyPerTarget < 1)
        {
            problems.Add("MaxEventBytes must be at least 1024 and MaxConcurrencyPerTarget at least 1.");
        }

        if (options.MaxBatchBytes < options.MaxEventBytes || options.BatchParallelism < 1)
        {
            problems.Add("MaxBatchBytes must be at least MaxEventBytes, and BatchParallelism at least 1.");
        }

        return problems.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{DispatchOptions.Section} is not valid: " + string.Join(" ", problems));
    }
}
