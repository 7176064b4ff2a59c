using Webhooks.BuildingBlocks;
using Webhooks.KeySafe.Keys;

namespace Webhooks.KeySafe;

public sealed class KeySafeAudit : IAuditDescriber
{
    private const string Name = "keysafe";

    public string ModuleName => Name;

    public IReadOnlyList<Type> EventTypes { get; } = [typeof(KeyCreated), typeof(KeyDetailsChanged), typeof(KeySecretRotated), typeof(KeyDeleted)];

    public AuditDescription? Describe(object data) => data switch
    {
        KeyCreated e => new(Name, "key", e.Name, "created", e.Actor,
            e.AllowedOrigins is { Count: > 0 } ? ["name", "type", "description", "username", "secret", "allowedOrigins"] : ["name", "type", "description", "username", "secret"]),
        KeyDetailsChanged e => new(Name, "key", e.Name, "detailsChanged", e.Actor, e.ChangedFields),
        KeySecretRotated e => new(Name, "key", null, "secretRotated", e.Actor, e.UsernameChanged ? ["username", "secret"] : ["secret"]),
        KeyDeleted e => new(Name, "key", e.Name, "deleted", e.Actor, []),
        _ => null,
    };
}
