using System.Globalization;
using Marten;
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

    /// <summary>The modules that keep an audit trail, by name.</summary>
    public IReadOnlyList<string> Modules => describers.Select(d => d.ModuleName).Distinct().ToList();
}

public static class AuditLogEndpoint
{
    public static ProblemDetails Validate(string? after, int? limit, string? module, AuditTrail trail) => new FieldErrors()
        .Check(limit is null or >= 1 and <= Cursor.MaxLimit, "limit", $"The limit must be between 1 and {Cursor.MaxLimit}.")
        .Check(Cursor.TryDecode(after, out var key) && (key is null || long.TryParse(key, CultureInfo.InvariantCulture, out _)), "after",
            "The cursor is not one this API handed out; pass the 'next' value of a previous page.")
        .Check(module is null || trail.Modules.Contains(module), "module", $"The module must be one of: {string.Join(", ", trail.Modules)}.")
        .ToProblem();

    /// <summary>
    /// Every configuration change in every module (catalog, webhooks, KeySafe), newest first: who, what, when. Filters:
    /// a time range, a module, one subject (a webhook's, key's or event source's id). Every entry carries its subject's
    /// name as it was then, even for changes whose event does not repeat it (enable, disable, rotations). Read from
    /// each module's change-entry projection, which follows the events within moments of their commit.
    /// </summary>
    [WolverineGet("/audit", OperationId = "GetAuditLog")]
    [Authorize(Roles = $"{Roles.Auditor},{Roles.Admin}")]
    [Tags("Audit")]
    public static async Task<Page<AuditEntry>> Get(
        DateTimeOffset? from, DateTimeOffset? to, string? after, int? limit, string? module, Guid? subjectId, IQuerySession session,
        CancellationToken cancellation)
    {
        Cursor.TryDecode(after, out var afterKey);
        var before = afterKey is null ? long.MaxValue : long.Parse(afterKey, CultureInfo.InvariantCulture);
        var take = limit ?? Cursor.DefaultLimit;

        // Every module's change entries (a projection of its events), newest first by sequence, on indexed columns.
        var query = session.Query<ChangeEntry>().Where(e => e.Id < before);
        if (module is not null)
        {
            query = query.Where(e => e.Module == module);
        }

        if (subjectId is { } subject)
        {
            query = query.Where(e => e.SubjectId == subject);
        }

        if (from is { } since)
        {
            query = query.Where(e => e.At >= since);
        }

        if (to is { } until)
        {
            query = query.Where(e => e.At < until);
        }

        var entries = await query.OrderByDescending(e => e.Id).Take(take + 1).ToListAsync(cancellation);
        return Paging.Page(
            entries, take,
            e => new AuditEntry(e.Id, e.At, e.Actor, e.Module, e.Subject, e.SubjectId, e.Name, e.Action, e.Changes, e.Reason),
            e => e.Id.ToString(CultureInfo.InvariantCulture));
    }
}
