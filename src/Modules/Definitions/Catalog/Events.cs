using System.Text.Json.Nodes;

namespace Webhooks.Definitions.Catalog;

public sealed record EventSourceRegistered(
    Guid EventSourceId,
    string Application,
    string Name,
    string Entity,
    string? Table,
    string Event,
    string? Description,
    JsonObject? SampleRecord,
    string Actor,
    DateTimeOffset At);

/// <summary>Carries the whole new state and the names of the fields that changed, for the audit log.</summary>
public sealed record EventSourceUpdated(
    Guid EventSourceId,
    string Application,
    string Name,
    string Entity,
    string? Table,
    string Event,
    string? Description,
    JsonObject? SampleRecord,
    IReadOnlyList<string> ChangedFields,
    string Actor,
    DateTimeOffset At);
