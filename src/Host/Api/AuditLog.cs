using System.Globalization;
using JasperFx.Events;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Wolverine.Http;

namespace Webhooks.Host.Api;

/// <summary>Every module's audit describers, gathered once.</summary>
public sealed class AuditTrail(IEnumerable<IAuditDescriber> describers)
{
    private readonly IAuditDescriber[] describers = describers.ToArray();

    public Type[] EventTypes { get; } = describers.SelectMany(d => d.EventTypes).Distinct().ToArray();

    public AuditEntry? Describe(IEvent e)
    {
        foreach (var describer in describers)
        {
            if (describer.Describe(e.Data) is { } d)
            {
                return new AuditEntry(e.Sequence, e.Timestamp, d.Actor, d.Module, d.Subject, e.StreamId, d.Name, d.Action, d.Changes, d.Reason);
            }
        }

        return null;
    }
}

public static class AuditLogEndpoint
{
    public static ProblemDetails Validate(string? after, int? limit) => new FieldErrors()
        .Check(limit is null or >= 1 and <= Cursor.MaxLimit, "limit", $"The limit must be between 1 and {Cursor.MaxLimit}.")
        .Check(Cursor.TryDecode(after, out var key) && (key is null || long.TryParse(key, CultureInfo.InvariantCulture, out _)), "after",
            "The cursor is not one this API handed out; pass the 'next' value of a previous page.")
        .ToProblem();

    /// <summary>Every configuration change in every module (catalog, webhooks, KeySafe), newest first: who, what, when.</summary>
    [WolverineGet("/audit", OperationId = "GetAuditLog")]
    [Authorize(Roles = $"{Roles.Auditor},{Roles.Admin}")]
    [Tags("Audit")]
    public static async Task<Page<AuditEntry>> Get(
        DateTimeOffset? from, DateTimeOffset? to, string? after, int? limit, IQuerySession session, AuditTrail trail,
        CancellationToken cancellation)
    {
        Cursor.TryDecode(after, out var afterKey);
        var before = afterKey is null ? long.MaxValue : long.Parse(afterKey, CultureInfo.InvariantCulture);
        var take = limit ?? Cursor.DefaultLimit;
        var query = session.Events.QueryAllRawEvents().Where(e => e.EventTypesAre(trail.EventTypes) && e.Sequence < before);
        if (from is { } since)
        {
            query = query.Where(e => e.Timestamp >= since);
        }

        if (to is { } until)
        {
            query = query.Where(e => e.Timestamp < until);
        }

        var events = await query.OrderByDescending(e => e.Sequence).Take(take + 1).ToListAsync(cancellation);
        var entries = events.Select(trail.Describe).OfType<AuditEntry>().ToList();
        return Paging.Page(entries, take, e => e, e => e.Sequence.ToString(CultureInfo.InvariantCulture));
    }
}
