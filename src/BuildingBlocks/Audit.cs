using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;
using Microsoft.Extensions.DependencyInjection;

namespace Webhooks.BuildingBlocks;

/// <summary>How a module's configuration event reads in the audit log.</summary>
public sealed record AuditDescription(
    string Module, string Subject, string? Name, string Action, string Actor, IReadOnlyList<string> Changes, string? Reason = null);

/// <summary>
/// A module's part of the audit log: which of its events are configuration changes, and how each reads. Each module
/// registers one, and with it its <see cref="ChangeEntryProjection"/>: the log is a projection of the events.
/// </summary>
public interface IAuditDescriber
{
    /// <summary>The module's name in the log (<c>definitions</c>, <c>keysafe</c>): what <c>GET /audit?module=</c> takes.</summary>
    string ModuleName { get; }

    IReadOnlyList<Type> EventTypes { get; }

    AuditDescription? Describe(object data);
}

/// <summary>A read model a module keeps as a Marten projection, by the projection's name; rebuildable from events.</summary>
public sealed record RebuildableProjection(string Name);

/// <summary>
/// One configuration change as the audit log reads it: a document per event, keyed by the event's sequence, with its
/// subject's name as it was then (also for events that do not repeat it: enable, disable, rotations).
/// </summary>
public sealed class ChangeEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public required string Module { get; set; }
    public required string Subject { get; set; }
    public Guid SubjectId { get; set; }
    public string? Name { get; set; }
    public required string Action { get; set; }
    public IReadOnlyList<string> Changes { get; set; } = [];
    public string? Reason { get; set; }
}

/// <summary>
/// A module's audit trail as a Marten event projection (asynchronous: it needs the events' sequence numbers, which
/// Marten's quick append assigns only on commit): one <see cref="ChangeEntry"/> per configuration event, which the
/// audit log pages by sequence on indexed columns instead of searching the event store.
/// </summary>
public sealed partial class ChangeEntryProjection : EventProjection
{
    private readonly IAuditDescriber describer;
    private readonly Dictionary<long, string?> names = [];

    public ChangeEntryProjection(IAuditDescriber describer)
    {
        this.describer = describer;
        Name = ProjectionName(describer.ModuleName);
        // Every module's projection writes entries (keyed by sequence, so they never collide): rebuilding one must
        // not delete the others'.
        DeletePublishedTypesOnTeardown = false;
        foreach (var type in describer.EventTypes)
        {
            IncludeType(type);
        }
    }

    public static string ProjectionName(string module) => $"ChangeEntry:{module}";

    /// <summary>Registers <paramref name="describer"/>'s projection and the entries' indexes with Marten.</summary>
    public static void Register(IServiceCollection services, IAuditDescriber describer)
    {
        services.AddSingleton(describer);
        services.AddSingleton(new RebuildableProjection(ProjectionName(describer.ModuleName)));
        services.ConfigureMarten(opts =>
        {
            opts.Projections.Add(new ChangeEntryProjection(describer), ProjectionLifecycle.Async);
            opts.Schema.For<ChangeEntry>().Duplicate(e => e.At).Duplicate(e => e.SubjectId).Duplicate(e => e.Module);
        });
    }

    /// <summary>
    /// Names the batch's entries whose event does not carry its subject's name: from an earlier event of the batch,
    /// else from the subject's newest named entry (one query for the batch).
    /// </summary>
    public override async Task EnrichEventsAsync(IQuerySession querySession, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        lock (names)
        {
            names.Clear();
        }

        var latest = new Dictionary<Guid, string>();
        var unnamed = new List<IEvent>();
        foreach (var e in events)
        {
            if (describer.Describe(e.Data) is not { } description)
            {
                continue;
            }

            if (description.Name is { } name)
            {
                latest[e.StreamId] = name;
            }
            else if (latest.TryGetValue(e.StreamId, out var known))
            {
                Remember(e.Sequence, known);
            }
            else
            {
                unnamed.Add(e);
            }
        }

        if (unnamed.Count == 0)
        {
            return;
        }

        var subjects = unnamed.Select(e => e.StreamId).Distinct().ToArray();
        var before = unnamed.Max(e => e.Sequence);
        var stored = await querySession.Query<ChangeEntry>()
            .Where(c => c.SubjectId.IsOneOf(subjects) && c.Id < before && c.Name != null)
            .OrderBy(c => c.Id)
            .ToListAsync(cancellation);
        foreach (var e in unnamed)
        {
            Remember(e.Sequence, stored.LastOrDefault(c => c.SubjectId == e.StreamId && c.Id < e.Sequence)?.Name);
        }
    }

    public override ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation)
    {
        if (describer.Describe(e.Data) is { } d)
        {
            string? name;
            lock (names)
            {
                names.Remove(e.Sequence, out name);
            }

            operations.Store(new ChangeEntry
            {
                Id = e.Sequence,
                At = e.Timestamp,
                Actor = d.Actor,
                Module = d.Module,
                Subject = d.Subject,
                SubjectId = e.StreamId,
                Name = d.Name ?? name,
                Action = d.Action,
                Changes = d.Changes,
                Reason = d.Reason,
            });
        }

        return ValueTask.CompletedTask;
    }

    private void Remember(long sequence, string? name)
    {
        lock (names)
        {
            names[sequence] = name;
        }
    }
}

/// <summary>A command that says who acts: its handler's Marten session names them in each event's metadata.</summary>
public interface IActorCommand
{
    /// <summary>The acting API key's name, or <c>system</c>.</summary>
    string Actor { get; }
}
