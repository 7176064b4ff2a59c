using System.Text.Json.Nodes;

namespace Webhooks.Definitions.Contracts;

/// <summary>The kinds of entity event an event source fires.</summary>
public static class EntityEvents
{
    /// <summary>Before a record is created; a syncCritical webhook can veto it.</summary>
    public const string Create = "create";

    /// <summary>Before a record is updated; a syncCritical webhook can veto it.</summary>
    public const string Update = "update";

    /// <summary>Before a record is deleted; a syncCritical webhook can veto it.</summary>
    public const string Delete = "delete";

    /// <summary>After a record was created.</summary>
    public const string Created = "created";

    /// <summary>After a record was updated.</summary>
    public const string Updated = "updated";

    /// <summary>After a record was deleted.</summary>
    public const string Deleted = "deleted";

    /// <summary>Every kind, pre-action first.</summary>
    public static IReadOnlyList<string> All { get; } = [Create, Update, Delete, Created, Updated, Deleted];
}

/// <summary>Body of <c>PUT /applications/{application}/event-sources/{name}</c>.</summary>
/// <param name="Entity">The entity the event source is bound to, e.g. <c>Contact</c>. Required.</param>
/// <param name="Table">The table named in the payload's <c>eventSource</c> URN; the entity when absent.</param>
/// <param name="Event">One of <see cref="EntityEvents.All"/>. Required.</param>
/// <param name="Description">What the event source is for.</param>
/// <param name="SampleRecord">A record as the application sends it; used by the webhook test button.</param>
public sealed record RegisterEventSource(
    string? Entity,
    string? Table,
    string? Event,
    string? Description = null,
    JsonObject? SampleRecord = null);

/// <summary>An event source in the catalog.</summary>
/// <param name="Application">The application that publishes it.</param>
/// <param name="Name">Its name, unique within the application.</param>
/// <param name="Entity">The entity it is bound to.</param>
/// <param name="Table">The table named in the payload, when it differs from the entity.</param>
/// <param name="Event">The kind of entity event, one of <see cref="EntityEvents.All"/>.</param>
/// <param name="Description">What it is for.</param>
/// <param name="SampleRecord">A sample record, for the webhook test button.</param>
/// <param name="EventSourceUrn">The <c>eventSource</c> value targets receive: <c>urn:webhook:entity:{table}:{event}</c>.</param>
/// <param name="Version">The number of changes made to it so far.</param>
/// <param name="RegisteredAt">When it was first registered.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record EventSourceView(
    string Application,
    string Name,
    string Entity,
    string? Table,
    string Event,
    string? Description,
    JsonObject? SampleRecord,
    string EventSourceUrn,
    long Version,
    DateTimeOffset RegisteredAt,
    DateTimeOffset UpdatedAt);

/// <summary>An application that has event sources in the catalog.</summary>
/// <param name="Name">The application's name.</param>
/// <param name="EventSources">The names of its event sources, in order.</param>
public sealed record ApplicationView(string Name, IReadOnlyList<string> EventSources);

/// <summary>Published (outbox) when an event source is registered or changed, so Dispatch knows it without asking.</summary>
/// <param name="EventSource">The event source after the change.</param>
public sealed record EventSourceChanged(EventSourceView EventSource);
