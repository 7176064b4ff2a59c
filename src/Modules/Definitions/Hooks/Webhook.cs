using Webhooks.Definitions.Contracts;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.Definitions.Hooks;

/// <summary>A webhook: one event stream per webhook, snapshotted inline (while it lives) for lookups by name.</summary>
public sealed record Webhook
{
    public Guid Id { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required string Application { get; init; }
    public required string EventSource { get; init; }
    public bool Enabled { get; init; }
    public string? DisabledReason { get; init; }
    public Guid? KeySafeKeyId { get; init; }
    public required string Url { get; init; }
    public required string PayloadFormat { get; init; }
    public required string PostMode { get; init; }
    public string? TriggerExpression { get; init; }

    /// <summary>Its target's health as the circuit breaker sees it.</summary>
    public WebhookHealth Health { get; init; } = WebhookHealth.Closed;

    /// <summary>Custom headers and the other settings beyond Hornbill's definition.</summary>
    public WebhookSettings Settings { get; init; } = WebhookSettings.None;

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public long Version { get; set; }

    /// <summary>The generation of its derived signing secret (each rotation is the next).</summary>
    public long SigningGeneration { get; init; }

    /// <summary>
    /// Whether its signing secret is derived (every webhook defined since derivation); false for one whose secret was
    /// issued and stored before, until its first rotation (its history and snapshot, written then, lack the field).
    /// </summary>
    public bool SigningDerived { get; init; }

    /// <summary>Whether the previous secret, during a grace period, is the stored one (the first rotation after derivation).</summary>
    public bool PreviousSigningStored { get; init; }

    /// <summary>Until when the previous signing secret still signs, after a rotation.</summary>
    public DateTimeOffset? PreviousSigningValidUntil { get; init; }

    public static Webhook Create(WebhookDefined e) => new()
    {
        Id = e.WebhookId,
        Name = e.Name,
        Description = e.Description,
        Application = e.Application,
        EventSource = e.EventSource,
        Enabled = e.Enabled,
        KeySafeKeyId = e.KeySafeKeyId,
        Url = e.Url,
        PayloadFormat = e.PayloadFormat,
        PostMode = e.PostMode,
        TriggerExpression = e.TriggerExpression,
        Settings = e.Settings ?? WebhookSettings.None,
        CreatedAt = e.At,
        UpdatedAt = e.At,
        Version = 1,
        SigningDerived = e.SigningDerived,
    };

    /// <summary>
    /// The webhook after one more event of its stream (null once deleted), as Marten's snapshot applies it. The version
    /// is counted here only: Marten sets the snapshot's <see cref="Version"/> to its stream's, so Apply leaves it alone.
    /// </summary>
    public static Webhook? Next(Webhook? webhook, object e)
    {
        var next = e switch
        {
            WebhookDefined defined => Create(defined),
            WebhookUpdated updated => webhook!.Apply(updated),
            WebhookEnabled enabled => webhook!.Apply(enabled),
            WebhookDisabled disabled => webhook!.Apply(disabled),
            WebhookSigningSecretRotated rotated => webhook!.Apply(rotated),
            WebhookBreakerOpened opened => webhook!.Apply(opened),
            WebhookBreakerClosed closed => webhook!.Apply(closed),
            WebhookDeleted => null,
            _ => throw new ArgumentException($"A webhook's stream has no event {e.GetType().Name}.", nameof(e)),
        };
        return next is null ? null : next with { Version = (webhook?.Version ?? 0) + 1 };
    }

    public Webhook Apply(WebhookUpdated e) => this with
    {
        Name = e.Name,
        Description = e.Description,
        Application = e.Application,
        EventSource = e.EventSource,
        Enabled = e.Enabled,
        DisabledReason = e.Enabled ? null : DisabledReason,
        KeySafeKeyId = e.KeySafeKeyId,
        Url = e.Url,
        PayloadFormat = e.PayloadFormat,
        PostMode = e.PostMode,
        TriggerExpression = e.TriggerExpression,
        Settings = e.Settings ?? WebhookSettings.None,
        // Another target is another target: its breaker starts closed.
        Health = e.Url == Url ? Health : WebhookHealth.Closed,
        UpdatedAt = e.At,
    };

    public Webhook Apply(WebhookBreakerOpened e) => this with
    {
        Health = new WebhookHealth(
            BreakerStates.Open, e.ConsecutiveFailures, Health.IsOpen ? Health.OpenedAt : e.At, e.NextProbeAt, e.FailingSince, e.LastError),
    };

    public Webhook Apply(WebhookBreakerClosed e) => this with { Health = WebhookHealth.Closed };

    /// <summary>Enabled again: its target gets a fresh start (the breaker closed), as the admin presumably fixed what failed.</summary>
    public Webhook Apply(WebhookEnabled e) => this with { Enabled = true, DisabledReason = null, Health = WebhookHealth.Closed, UpdatedAt = e.At };

    public Webhook Apply(WebhookDisabled e) => this with { Enabled = false, DisabledReason = e.Reason, UpdatedAt = e.At };

    public Webhook Apply(WebhookSigningSecretRotated e) => e.Generation == 0
        // Rotated before derivation: KeySafe rotated the stored secret, which keeps its own grace period.
        ? this with { PreviousSigningValidUntil = e.PreviousValidUntil, UpdatedAt = e.At }
        : this with
        {
            SigningGeneration = e.Generation,
            SigningDerived = true,
            PreviousSigningStored = !SigningDerived,
            PreviousSigningValidUntil = e.PreviousValidUntil,
            UpdatedAt = e.At,
        };

    /// <summary>Which signing secrets KeySafe derives for it.</summary>
    public SigningState Signing() => new(SigningGeneration, PreviousSigningValidUntil, Stored: !SigningDerived, PreviousSigningStored);

#pragma warning disable CA1822, IDE0060 // Marten's convention: the snapshot is deleted when this answers true.
    public bool ShouldDelete(WebhookDeleted e) => true;
#pragma warning restore CA1822, IDE0060

    public WebhookDefinition ToDefinition() => new(
        Id, Name, Description, Application, EventSource, Enabled, DisabledReason, KeySafeKeyId, Url, PayloadFormat, PostMode,
        TriggerExpression, Version, CreatedAt, UpdatedAt, Settings.Headers, Health, Settings.Authentication, Settings.RateLimit,
        Settings.MaxConcurrency, Settings.Ordering);

    /// <summary>As answered at <paramref name="now"/>: its breaker half-open when open past its cool-down.</summary>
    public WebhookDefinition ToDefinition(DateTimeOffset now) => ToDefinition() with { Health = Health.At(now) };

    /// <summary>Every KeySafe key it uses (to authenticate, and for its headers' values), each once.</summary>
    public IReadOnlySet<Guid> HeldKeys() =>
        (KeySafeKeyId is { } key ? Settings.Keys.Append(key) : Settings.Keys).ToHashSet();

    /// <summary>The fields of a definition as text, in the API's names, for the history's before and after.</summary>
    public static IReadOnlyList<(string Field, string? Value)> Fields(
        string name, string? description, string application, string eventSource, bool enabled, Guid? keySafeKeyId,
        string url, string payloadFormat, string postMode, string? triggerExpression, WebhookSettings? settings) =>
    [
        ("name", name), ("description", description), ("application", application), ("eventSource", eventSource),
        ("enabled", enabled ? "true" : "false"), ("keySafeKeyId", keySafeKeyId?.ToString()), ("url", url),
        ("payloadFormat", payloadFormat), ("postMode", postMode), ("triggerExpression", triggerExpression),
        .. (settings ?? WebhookSettings.None).Fields(),
    ];

    public IReadOnlyList<(string Field, string? Value)> Fields() =>
        Fields(Name, Description, Application, EventSource, Enabled, KeySafeKeyId, Url, PayloadFormat, PostMode, TriggerExpression, Settings);
}
