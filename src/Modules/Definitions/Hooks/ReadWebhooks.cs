using System.Globalization;
using JasperFx.Events;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Wolverine.Http;

namespace Webhooks.Definitions.Hooks;

public static class ListWebhooksEndpoint
{
    public const int MaxSearchLength = 100;

    public static ProblemDetails Validate(string? q, string? after, int? limit)
    {
        var problem = Paging.Validate(after, limit);
        return q is { Length: > MaxSearchLength } && problem == WolverineContinue.NoProblems
            ? new FieldErrors().Add("q", $"Search for at most {MaxSearchLength} characters of a name.").ToProblem()
            : problem;
    }

    /// <summary>
    /// Live webhooks by name, optionally only those of an application, an event source, or an enabled state, or whose
    /// name contains <c>q</c> (case-insensitive).
    /// </summary>
    [WolverineGet("/webhooks", OperationId = "ListWebhooks")]
    [Authorize(Roles = $"{Roles.Admin},{Roles.Auditor}")]
    [Tags("Webhooks")]
    public static async Task<Page<WebhookDefinition>> Get(
        string? application, string? eventSource, bool? enabled, string? q, string? after, int? limit, IQuerySession session,
        TimeProvider clock, CancellationToken cancellation)
    {
        Cursor.TryDecode(after, out var afterName);
        var take = limit ?? Cursor.DefaultLimit;
        // Application, event source and enabled are duplicated into indexed columns; names are in a unique index.
        var from = afterName ?? "";
        var query = session.Query<Webhook>().Where(w => w.Name.CompareTo(from) > 0);
        if (application is not null)
        {
            query = query.Where(w => w.Application == application);
        }

        if (eventSource is not null)
        {
            query = query.Where(w => w.EventSource == eventSource);
        }

        if (enabled is { } state)
        {
            query = query.Where(w => w.Enabled == state);
        }

        if (q is { Length: > 0 })
        {
            query = query.Where(w => w.Name.Contains(q, StringComparison.OrdinalIgnoreCase));
        }

        var rows = await query.OrderBy(w => w.Name).Take(take + 1).ToListAsync(cancellation);
        var now = clock.GetUtcNow();
        return Paging.Page(rows, take, w => w.ToDefinition(now), w => w.Name);
    }
}

public static class GetWebhookEndpoint
{
    /// <summary>A webhook as it is, or with <c>asOf</c> as it was then, rebuilt from its events.</summary>
    [WolverineGet("/webhooks/{name}", OperationId = "GetWebhook")]
    [Authorize(Roles = $"{Roles.Admin},{Roles.Auditor}")]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookDefinition>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(
        string name, DateTimeOffset? asOf, IQuerySession session, HttpResponse response, TimeProvider clock, CancellationToken cancellation)
    {
        if (await WebhookLookup.ByName(session, name, cancellation) is not { } webhook)
        {
            return Results.Problem(WebhookLookup.NotFound(name));
        }

        if (asOf is { } time)
        {
            var then = await session.Events.AggregateStreamAsync<Webhook>(webhook.Id, timestamp: time.ToUniversalTime(), token: cancellation);
            if (then is null)
            {
                return Results.Problem(Problems.NotFound($"The webhook '{name}' did not exist yet at {time:O}."));
            }

            webhook = then;
        }

        Versions.Tag(response, webhook.Version);
        // The breaker as it reads at the time asked (an open breaker past its cool-down is half-open).
        return Results.Ok(webhook.ToDefinition(asOf ?? clock.GetUtcNow()));
    }
}

public static class WebhookHistoryEndpoint
{
    public static ProblemDetails Validate(string? after, int? limit) => Paging.Validate(after, limit);

    /// <summary>Every configuration change of a webhook, oldest first: version, what happened, when, who, what changed.</summary>
    [WolverineGet("/webhooks/{name}/history", OperationId = "GetWebhookHistory")]
    [Authorize(Roles = $"{Roles.Admin},{Roles.Auditor}")]
    [Tags("Webhooks")]
    [ProducesResponseType<Page<WebhookChange>>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(string name, string? after, int? limit, IQuerySession session, CancellationToken cancellation)
    {
        if (await WebhookLookup.ByName(session, name, cancellation) is not { } webhook)
        {
            return Results.Problem(WebhookLookup.NotFound(name));
        }

        var events = await session.Events.FetchStreamAsync(webhook.Id, token: cancellation);
        return Results.Ok(Paging.ByVersion(events, e => e.Version, Describe, after, limit));
    }

    public static WebhookChange Describe(IEvent e) => Describe(e.Data) is { } d
        ? new(e.Version, d.Action, e.Timestamp, d.Actor, d.Changes, d.Reason)
        : new(e.Version, e.EventTypeName, e.Timestamp, "unknown", [], null);

    /// <summary>
    /// How each event of a webhook's stream reads, in its history and (by field names) in the audit log: the one
    /// description of these events.
    /// </summary>
    public static Described? Describe(object data) => data switch
    {
        WebhookDefined d => new("defined", d.Actor, d.Name,
            Webhook.Fields(d.Name, d.Description, d.Application, d.EventSource, d.Enabled, d.KeySafeKeyId, d.Url, d.PayloadFormat,
                d.PostMode, d.TriggerExpression, d.Settings)
                .Where(f => f.Value is not null || !WebhookSettings.FieldNames.Contains(f.Field)) // the settings a definition has
                .Select(f => new FieldChange(f.Field, null, f.Value)).ToList(), null),
        WebhookUpdated u => new("updated", u.Actor, u.Name, u.Changes, null),
        WebhookEnabled en => new("enabled", en.Actor, null, [new FieldChange("enabled", "false", "true")],
            en.Pending switch
            {
                PendingOnEnable.Resume => "Its parked deliveries resume.",
                PendingOnEnable.Fail => "Its parked deliveries fail (recoverable).",
                _ => null,
            }),
        WebhookDisabled dis => new("disabled", dis.Actor, null, [new FieldChange("enabled", "true", "false")], dis.Reason),
        WebhookSigningSecretRotated r => new("signingSecretRotated", r.Actor, null, [new FieldChange("signingSecret", null, null)], null),
        WebhookDeleted del => new("deleted", del.Actor, del.Name, [], null),
        WebhookBreakerOpened b => new("breakerOpened", b.Actor, null, [new FieldChange("breaker", null, BreakerStates.Open)],
            $"{b.ConsecutiveFailures} failed attempts in a row{(b.LastError is { } last ? $" (the last: {last})" : "")}; deliveries wait, " +
            $"the next probe at {b.NextProbeAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC."),
        WebhookBreakerClosed c => new("breakerClosed", c.Actor, null, [new FieldChange("breaker", BreakerStates.Open, BreakerStates.Closed)],
            "A probe succeeded: the waiting deliveries go."),
        _ => null,
    };

    /// <summary>What one event of a webhook's stream says happened (<see cref="Name"/> only when the event carries it).</summary>
    public sealed record Described(string Action, string Actor, string? Name, IReadOnlyList<FieldChange> Changes, string? Reason);
}
