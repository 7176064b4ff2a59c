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
    ];

    public AuditDescription? Describe(object data) => data switch
    {
        EventSourceRegistered e => new(Name, "eventSource", $"{e.Application}/{e.Name}", "registered", e.Actor, ["entity", "table", "event", "description", "sampleRecord"]),
        EventSourceUpdated e => new(Name, "eventSource", $"{e.Application}/{e.Name}", "updated", e.Actor, e.ChangedFields),
        WebhookDefined e => new(Name, "webhook", e.Name, "defined", e.Actor, []),
        WebhookUpdated e => new(Name, "webhook", e.Name, "updated", e.Actor, e.Changes.Select(c => c.Field).ToList()),
        WebhookEnabled e => new(Name, "webhook", null, "enabled", e.Actor, ["enabled"]),
        WebhookDisabled e => new(Name, "webhook", null, "disabled", e.Actor, ["enabled"], e.Reason),
        WebhookSigningSecretRotated e => new(Name, "webhook", null, "signingSecretRotated", e.Actor, ["signingSecret"]),
        WebhookDeleted e => new(Name, "webhook", e.Name, "deleted", e.Actor, []),
        _ => null,
    };
}
