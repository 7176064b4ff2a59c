using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Catalog;
using Webhooks.Definitions.Hooks;

namespace Webhooks.Definitions;

public sealed class DefinitionsAudit : IAuditDescriber
{
    private const string Module = "definitions";

    public IReadOnlyList<Type> EventTypes { get; } =
    [
        typeof(EventSourceRegistered), typeof(EventSourceUpdated), typeof(WebhookDefined), typeof(WebhookUpdated),
        typeof(WebhookEnabled), typeof(WebhookDisabled), typeof(WebhookSigningSecretRotated), typeof(WebhookDeleted),
    ];

    public AuditDescription? Describe(object data) => data switch
    {
        EventSourceRegistered e => new(Module, "eventSource", $"{e.Application}/{e.Name}", "registered", e.Actor, ["entity", "table", "event", "description", "sampleRecord"]),
        EventSourceUpdated e => new(Module, "eventSource", $"{e.Application}/{e.Name}", "updated", e.Actor, e.ChangedFields),
        WebhookDefined e => new(Module, "webhook", e.Name, "defined", e.Actor, []),
        WebhookUpdated e => new(Module, "webhook", e.Name, "updated", e.Actor, e.Changes.Select(c => c.Field).ToList()),
        WebhookEnabled e => new(Module, "webhook", null, "enabled", e.Actor, ["enabled"]),
        WebhookDisabled e => new(Module, "webhook", null, "disabled", e.Actor, ["enabled"], e.Reason),
        WebhookSigningSecretRotated e => new(Module, "webhook", null, "signingSecretRotated", e.Actor, ["signingSecret"]),
        WebhookDeleted e => new(Module, "webhook", e.Name, "deleted", e.Actor, []),
        _ => null,
    };
}
