using System.Text.Json.Nodes;
using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Contracts;

namespace Webhooks.Definitions.Catalog;

/// <summary>An event source in the catalog: one stream per (application, name), snapshotted inline.</summary>
public sealed record EventSource
{
    public Guid Id { get; init; }
    public required string Application { get; init; }
    public required string Name { get; init; }
    public required string Entity { get; init; }
    public string? Table { get; init; }
    public required string Event { get; init; }
    public string? Description { get; init; }
    public JsonObject? SampleRecord { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public long Version { get; set; }

    public static Guid StreamId(string application, string name) => StableGuid.From($"event-source/{application}/{name}");

    public static EventSource Create(EventSourceRegistered e) => new()
    {
        Id = e.EventSourceId,
        Application = e.Application,
        Name = e.Name,
        Entity = e.Entity,
        Table = e.Table,
        Event = e.Event,
        Description = e.Description,
        SampleRecord = e.SampleRecord,
        RegisteredAt = e.At,
        UpdatedAt = e.At,
        Version = 1,
    };

    public EventSource Apply(EventSourceUpdated e) => this with
    {
        Entity = e.Entity,
        Table = e.Table,
        Event = e.Event,
        Description = e.Description,
        SampleRecord = e.SampleRecord,
        UpdatedAt = e.At,
        Version = Version + 1,
    };

    public EventSourceView ToView() => new(
        Application, Name, Entity, Table, Event, Description, SampleRecord,
        $"urn:webhook:entity:{Table ?? Entity}:{Event}", Version, RegisteredAt, UpdatedAt);
}
