namespace Webhooks.Definitions.Contracts;

/// <summary>
/// Published (outbox) whenever a webhook is defined or changed, carrying its current definition. Consumers keep the
/// newest version they have seen per webhook and ignore older ones (messages may arrive out of order).
/// </summary>
/// <param name="WebhookId">The webhook's id (a deleted webhook's name may be reused by a new webhook with a new id).</param>
/// <param name="Name">Its name.</param>
/// <param name="Version">Its version after the change.</param>
/// <param name="KeySafeKeyId">The KeySafe key it authenticates with, if any.</param>
public sealed record WebhookChanged(Guid WebhookId, string Name, long Version, Guid? KeySafeKeyId);

/// <summary>Published (outbox) when a webhook is deleted.</summary>
/// <param name="WebhookId">The webhook's id.</param>
/// <param name="Name">Its name.</param>
/// <param name="Version">Its version after the deletion.</param>
public sealed record WebhookRemoved(Guid WebhookId, string Name, long Version);
