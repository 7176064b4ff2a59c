using System.Globalization;
using System.Text;
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
        CancellationToken cancellation)
    {
        Cursor.TryDecode(after, out var afterName);
        var take = limit ?? Cursor.DefaultLimit;
        var where = new StringBuilder("where data ->> 'name' > ?");
        var parameters = new List<object> { afterName ?? "" };
        if (application is not null)
        {
            where.Append(" and data ->> 'application' = ?");
            parameters.Add(application);
        }

        if (eventSource is not null)
        {
            where.Append(" and data ->> 'eventSource' = ?");
            parameters.Add(eventSource);
        }

        if (enabled is { } state)
        {
            where.Append(" and (data ->> 'enabled')::boolean = ?");
            parameters.Add(state);
        }

        if (q is { Length: > 0 })
        {
            where.Append(@" and data ->> 'name' ilike ? escape '\'");
            parameters.Add($"%{q.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal)}%");
        }

        where.Append(" order by data ->> 'name' limit ?");
        parameters.Add(take + 1);
        var rows = await session.QueryAsync<Webhook>(where.ToString(), cancellation, [.. parameters]);
        return Paging.Page(rows, take, w => w.ToDefinition(), w => w.Name);
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
        string name, DateTimeOffset? asOf, IQuerySession session, HttpResponse response, CancellationToken cancellation)
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
        return Results.Ok(webhook.ToDefinition());
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

    public static WebhookChange Describe(IEvent e) => e.Data switch
    {
        WebhookDefined d => new(e.Version, "defined", e.Timestamp, d.Actor,
            Webhook.Fields(d.Name, d.Description, d.Application, d.EventSource, d.Enabled, d.KeySafeKeyId, d.Url, d.PayloadFormat,
                d.PostMode, d.TriggerExpression).Select(f => new FieldChange(f.Field, null, f.Value)).ToList(), null),
        WebhookUpdated u => new(e.Version, "updated", e.Timestamp, u.Actor, u.Changes, null),
        WebhookEnabled en => new(e.Version, "enabled", e.Timestamp, en.Actor, [new FieldChange("enabled", "false", "true")], null),
        WebhookDisabled dis => new(e.Version, "disabled", e.Timestamp, dis.Actor, [new FieldChange("enabled", "true", "false")], dis.Reason),
        WebhookSigningSecretRotated r => new(e.Version, "signingSecretRotated", e.Timestamp, r.Actor, [new FieldChange("signingSecret", null, null)], null),
        WebhookDeleted del => new(e.Version, "deleted", e.Timestamp, del.Actor, [], null),
        _ => new(e.Version, e.EventTypeName, e.Timestamp, "unknown", [], null),
    };
}
