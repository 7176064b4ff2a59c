using Webhooks.BuildingBlocks;
using Webhooks.KeySafe.Keys;

namespace Webhooks.KeySafe;

public sealed class KeySafeAudit : IAuditDescriber
{
    private const string Name = "keysafe";

    public string ModuleName => Name;

    public IReadOnlyList<Type> EventTypes { get; } = [typeof(KeyCreated), typeof(KeyDetailsChanged), typeof(KeySecretRotated), typeof(KeyDeleted)];

    public AuditDescription? Describe(object data) => Keys.KeyHistoryEndpoint.Describe(0, data) is { } change
        ? new(Name, "key", data switch { KeyCreated e => e.Name, KeyDetailsChanged e => e.Name, KeyDeleted e => e.Name, _ => null },
            change.EventType, change.Actor, change.Changed)
        : null;
}
