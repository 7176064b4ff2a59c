using Microsoft.Extensions.Options;

namespace Webhooks.Dispatch.Retention;

/// <summary><c>Webhooks:Retention</c> settings (API.md's configuration table; README "Retention").</summary>
public sealed class RetentionOptions
{
    public const string Section = "Webhooks:Retention";

    /// <summary>After this long an event's record and its deliveries' response excerpts are removed (default 30 days).</summary>
    public TimeSpan Payloads { get; set; } = TimeSpan.FromDays(30);

    /// <summary>After this long a delivery's record leaves the hot tables for the archive (default 90 days).</summary>
    public TimeSpan Deliveries { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often the job looks for expired data (one host of a cluster at a time does it).</summary>
    public TimeSpan RunEvery { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many deliveries (or events, when removing payloads) one transaction handles.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Whether this host runs the job (a cluster needs one host that does).</summary>
    public bool Enabled { get; set; } = true;
}

public sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        var problems = new List<string>();
        if (options.Payloads <= TimeSpan.Zero || options.Deliveries <= TimeSpan.Zero)
        {
            problems.Add("Payloads and Deliveries must be positive TimeSpans, such as 30.00:00:00 (30 days).");
        }
        else if (options.Deliveries < options.Payloads)
        {
            problems.Add($"Deliveries ({options.Deliveries}) must be at least Payloads ({options.Payloads}): a record leaves for the archive after its payload was removed.");
        }

        if (options.RunEvery <= TimeSpan.Zero)
        {
            problems.Add("RunEvery must be a positive TimeSpan, such as 00:10:00.");
        }

        if (options.BatchSize is < 1 or > 10_000)
        {
            problems.Add("BatchSize must be between 1 and 10000.");
        }

        return problems.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(problems.Select(p => $"{RetentionOptions.Section}: {p}"));
    }
}
