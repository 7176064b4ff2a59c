using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Catalog;
using Webhooks.Definitions.Hooks;

namespace Webhooks.Definitions;

public sealed class DefinitionsAudit : IAuditDescriber
{
    private const string Name = "definitions";

    public string ModuleName => Name;

    public IReadOnlyList<Type> EventTypes { get; } =
    [
        typeof(EventSourceRegistered), typeof(EventSourceUpdated), typeof(WebhookDefined), typeof(WebhookUpdated),
        typeof(WebhookEnabled), typeof(WebhookDisabled), typeof(WebhookSigningSecretRotated), typeof(WebhookDeleted),
        typeof(WebhookBreakerOpened), typeof(WebhookBreakerClosed),
    ];

    public AuditDescription? Describe(object data) => data switch
    {
        EventSourceRegistered e => new(Name, "eventSource", $"{e.Application}/{e.Name}", "registered", e.Actor, ["entity", "table", "event", "description", "sampleRecord"]),
        EventSourceUpdated e => new(Name, "eventSource", $"{e.Application}/{e.Name}", "updated", e.Actor, e.ChangedFields),
        _ when WebhookHistoryEndpoint.Describe(data) is { } d => new(Name, "webhook", d.Name, d.Action, d.Actor,
            d.Action == "defined" ? [] : d.Changes.Select(c => c.Field).ToList(), d.Reason),
        _ => null,
    };
}
