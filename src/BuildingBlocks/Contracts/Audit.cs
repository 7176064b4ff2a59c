namespace Webhooks.Contracts;

/// <summary>One configuration change, in any module: who, what, when.</summary>
/// <param name="Sequence">Its position in the event store; the cursor of <c>GET /audit</c>.</param>
/// <param name="At">When.</param>
/// <param name="Actor">Who: an API key's name, or <c>system</c>.</param>
/// <param name="Module"><c>definitions</c> or <c>keysafe</c>.</param>
/// <param name="Subject">What kind of thing changed: <c>eventSource</c>, <c>webhook</c>, <c>key</c>.</param>
/// <param name="SubjectId">The changed thing's id (its event stream).</param>
/// <param name="Name">Its name, when the change carries it.</param>
/// <param name="Action">What happened, e.g. <c>defined</c>, <c>updated</c>, <c>secretRotated</c>, <c>deleted</c>.</param>
/// <param name="Changes">The fields that changed.</param>
/// <param name="Reason">Why, when one was given.</param>
public sealed record AuditEntry(
    long Sequence, DateTimeOffset At, string Actor, string Module, string Subject, Guid SubjectId, string? Name, string Action,
    IReadOnlyList<string> Changes, string? Reason);

/// <summary>One read model rebuilt from the events: its projection's name and how long it took.</summary>
/// <param name="Projection">The projection (e.g. <c>Webhook</c>, <c>DeliveryLog</c>).</param>
/// <param name="ElapsedMs">How long the rebuild took.</param>
public sealed record ProjectionRebuilt(string Projection, long ElapsedMs);
