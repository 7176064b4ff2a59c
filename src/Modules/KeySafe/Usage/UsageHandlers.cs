using Marten;
using Microsoft.Extensions.Logging;
using Webhooks.Definitions.Contracts;
using Webhooks.KeySafe.Contracts;
using Webhooks.KeySafe.Keys;

namespace Webhooks.KeySafe.Usage;

public static class ReserveKeyHandler
{
    public static async Task<KeyReservation> Handle(ReserveKey reserve, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var key = await session.LoadAsync<Key>(reserve.KeyId, cancellation);
        var usage = await session.LoadAsync<KeyUsage>(reserve.KeyId, cancellation);
        if (key is null || usage is null || usage.KeyDeleted)
        {
            return new KeyReservation(false, $"There is no KeySafe key with id {reserve.KeyId}.");
        }

        if (key.Type != KeyTypes.HttpBasic)
        {
            return new KeyReservation(false, $"The KeySafe key '{key.Name}' is of type {key.Type}; webhooks take only {KeyTypes.HttpBasic} keys.");
        }

        var confirmed = usage.Webhooks.TryGetValue(reserve.WebhookId, out var existing) && existing.Confirmed;
        usage.Webhooks[reserve.WebhookId] = new WebhookUse(reserve.WebhookName, confirmed, time.GetUtcNow());
        session.Store(usage);

        // Remembered with the webhook, so its next message settles the reservation whatever it says.
        var link = await session.LoadAsync<WebhookKeyLink>(reserve.WebhookId, cancellation) ?? new WebhookKeyLink { Id = reserve.WebhookId };
        if (!link.Reserved.Contains(reserve.KeyId))
        {
            link.Reserved.Add(reserve.KeyId);
        }

        session.Store(link);
        return new KeyReservation(true, null);
    }
}

public static partial class WebhookUsageHandler
{
    public static async Task Handle(WebhookChanged message, IDocumentSession session, TimeProvider time, ILogger logger, CancellationToken cancellation)
    {
        var changed = message.Webhook;
        var link = await session.LoadAsync<WebhookKeyLink>(changed.Id, cancellation) ?? new WebhookKeyLink { Id = changed.Id };
        if (link.Removed || link.Version >= changed.Version)
        {
            return;
        }

        foreach (var previous in link.Reserved.Append(link.KeyId ?? Guid.Empty).Distinct())
        {
            if (previous != Guid.Empty && previous != changed.KeySafeKeyId)
            {
                await Release(session, previous, changed.Id, cancellation);
            }
        }

        if (changed.KeySafeKeyId is { } keyId)
        {
            var usage = await session.LoadAsync<KeyUsage>(keyId, cancellation);
            if (usage is null || usage.KeyDeleted)
            {
                LogMissingKey(logger, changed.Name, keyId);
            }
            else
            {
                usage.Webhooks[changed.Id] = new WebhookUse(changed.Name, Confirmed: true, time.GetUtcNow());
                session.Store(usage);
            }
        }

        link.KeyId = changed.KeySafeKeyId;
        link.Reserved.Clear();
        link.Version = changed.Version;
        session.Store(link);
    }

    public static async Task Handle(WebhookRemoved removed, IDocumentSession session, CancellationToken cancellation)
    {
        // The webhook's signing secret goes with it.
        session.Delete<Signing.SigningSecret>(removed.WebhookId);

        var link = await session.LoadAsync<WebhookKeyLink>(removed.WebhookId, cancellation) ?? new WebhookKeyLink { Id = removed.WebhookId };
        foreach (var keyId in link.Reserved.Append(link.KeyId ?? Guid.Empty).Distinct().Where(k => k != Guid.Empty))
        {
            await Release(session, keyId, removed.WebhookId, cancellation);
        }

        link.KeyId = null;
        link.Reserved.Clear();
        link.Removed = true;
        link.Version = Math.Max(link.Version, removed.Version);
        session.Store(link);
    }

    private static async Task Release(IDocumentSession session, Guid keyId, Guid webhookId, CancellationToken cancellation)
    {
        var usage = await session.LoadAsync<KeyUsage>(keyId, cancellation);
        if (usage is not null && usage.Webhooks.Remove(webhookId))
        {
            session.Store(usage);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Webhook {Webhook} references KeySafe key {KeyId}, which does not exist (deleted meanwhile?)")]
    private static partial void LogMissingKey(ILogger logger, string webhook, Guid keyId);
}
