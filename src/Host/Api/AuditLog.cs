using System.Globalization;
using JasperFx.Events;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using NpgsqlTypes;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Wolverine.Http;

namespace Webhooks.Host.Api;

/// <summary>Every module's audit describers, gathered once.</summary>
public sealed class AuditTrail(IEnumerable<IAuditDescriber> describers)
{
    private readonly IAuditDescriber[] describers = describers.ToArray();

    public Type[] EventTypes { get; } = describers.SelectMany(d => d.EventTypes).Distinct().ToArray();

    /// <summary>The modules that keep an audit trail, by name.</summary>
    public IReadOnlyList<string> Modules => describers.Select(d => d.ModuleName).Distinct().ToList();

    /// <summary>The configuration events of one module, or of every module when <paramref name="module"/> is null.</summary>
    public Type[] EventTypesOf(string? module) =>
        module is null ? EventTypes : describers.Where(d => d.ModuleName == module).SelectMany(d => d.EventTypes).Distinct().ToArray();

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
    public static ProblemDetails Validate(string? after, int? limit, string? module, AuditTrail trail) => new FieldErrors()
        .Check(limit is null or >= 1 and <= Cursor.MaxLimit, "limit", $"The limit must be between 1 and {Cursor.MaxLimit}.")
        .Check(Cursor.TryDecode(after, out var key) && (key is null || long.TryParse(key, CultureInfo.InvariantCulture, out _)), "after",
            "The cursor is not one this API handed out; pass the 'next' value of a previous page.")
        .Check(module is null || trail.Modules.Contains(module), "module", $"The module must be one of: {string.Join(", ", trail.Modules)}.")
        .ToProblem();

    /// <summary>
    /// Every configuration change in every module (catalog, webhooks, KeySafe), newest first: who, what, when. Filters:
    /// a time range, a module, one subject (a webhook's, key's or event source's id). Every entry carries its subject's
    /// name as it was then, even for changes whose event does not repeat it (enable, disable, rotations).
    /// </summary>
    [WolverineGet("/audit", OperationId = "GetAuditLog")]
    [Authorize(Roles = $"{Roles.Auditor},{Roles.Admin}")]
    [Tags("Audit")]
    public static async Task<Page<AuditEntry>> Get(
        DateTimeOffset? from, DateTimeOffset? to, string? after, int? limit, string? module, Guid? subjectId, IQuerySession session,
        AuditTrail trail, NpgsqlDataSource database, CancellationToken cancellation)
    {
        Cursor.TryDecode(after, out var afterKey);
        var before = afterKey is null ? long.MaxValue : long.Parse(afterKey, CultureInfo.InvariantCulture);
        var take = limit ?? Cursor.DefaultLimit;
        var types = trail.EventTypesOf(module);
        IReadOnlyList<IEvent> events;
        if (subjectId is { } subject)
        {
            // One subject's stream: its own index finds it.
            var query = session.Events.QueryAllRawEvents().Where(e => e.EventTypesAre(types) && e.Sequence < before && e.StreamId == subject);
            if (from is { } since)
            {
                query = query.Where(e => e.Timestamp >= since);
            }

            if (to is { } until)
            {
                query = query.Where(e => e.Timestamp < until);
            }

            events = await query.OrderByDescending(e => e.Sequence).Take(take + 1).ToListAsync(cancellation);
        }
        else
        {
            // Configuration changes are few among millions of delivery events: the page's sequence numbers are found
            // type by type on the (type, seq_id) index, newest first, and just those events read (by their key, in any
            // order: asked to order them too, the planner may walk the whole store backwards looking for them).
            var sequences = await Newest(session, database, types, before, from, to, take + 1, cancellation);
            var found = await session.Events.QueryAllRawEvents().Where(e => e.Sequence.IsOneOf(sequences)).ToListAsync(cancellation);
            events = [.. found.OrderByDescending(e => e.Sequence)];
        }

        var entries = events.Select(trail.Describe).OfType<AuditEntry>().ToList();
        entries = await Named(entries, session, trail, cancellation);
        return Paging.Page(entries, take, e => e, e => e.Sequence.ToString(CultureInfo.InvariantCulture));
    }

    private static async Task<long[]> Newest(
        IQuerySession session, NpgsqlDataSource database, Type[] types, long before, DateTimeOffset? from, DateTimeOffset? to, int take,
        CancellationToken cancellation)
    {
        var events = (EventGraph)session.DocumentStore.Options.Events;
        var table = $"{events.DatabaseSchemaName}.mt_events";
        var window = (from is null ? "" : " and timestamp >= $3") + (to is null ? "" : " and timestamp < $4");
        var perType = types.Select((_, i) => $"(select seq_id from {table} where type = ${i + 5} and seq_id < $1{window} order by seq_id desc limit $2)");
        await using var command = database.CreateCommand(
            $"select seq_id from ({string.Join(" union all ", perType)}) newest order by seq_id desc limit $2");
        command.Parameters.Add(new NpgsqlParameter { Value = before });
        command.Parameters.Add(new NpgsqlParameter { Value = take });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)from ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)to ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        foreach (var type in types)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = events.EventMappingFor(type).EventTypeName });
        }

        var sequences = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            sequences.Add(reader.GetInt64(0));
        }

        return [.. sequences];
    }

    /// <summary>
    /// Names the entries whose event does not carry its subject's name, from the latest earlier event of the same
    /// stream that does: one query for the whole page, over those streams only.
    /// </summary>
    private static async Task<List<AuditEntry>> Named(List<AuditEntry> entries, IQuerySession session, AuditTrail trail, CancellationToken cancellation)
    {
        var unnamed = entries.Where(e => e.Name is null).Select(e => e.SubjectId).Distinct().ToArray();
        if (unnamed.Length == 0)
        {
            return entries;
        }

        var newest = entries.Max(e => e.Sequence);
        var history = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId.IsOneOf(unnamed) && e.EventTypesAre(trail.EventTypes) && e.Sequence <= newest)
            .OrderBy(e => e.Sequence)
            .ToListAsync(cancellation);
        var names = history.Select(trail.Describe).OfType<AuditEntry>().Where(e => e.Name is not null)
            .GroupBy(e => e.SubjectId)
            .ToDictionary(g => g.Key, g => g.ToList());
        return entries.Select(e => e.Name is null && names.TryGetValue(e.SubjectId, out var named)
            ? e with { Name = named.LastOrDefault(n => n.Sequence < e.Sequence)?.Name }
            : e).ToList();
    }
}
