namespace Webhooks.BuildingBlocks;

/// <summary>How a module's configuration event reads in the audit log.</summary>
public sealed record AuditDescription(
    string Module, string Subject, string? Name, string Action, string Actor, IReadOnlyList<string> Changes, string? Reason = null);

/// <summary>
/// A module's part of the audit log: which of its events are configuration changes, and how each reads. Modules
/// register one; the audit endpoint reads those events from the event store (so the log is always rebuilt from them).
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
