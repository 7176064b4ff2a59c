using Marten;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.KeySafe.Usage;

/// <summary>
/// Holds and releases, sent by holders through the outbox with their own change. A hold for a key deleted meanwhile
/// is refused back to the holder, which compensates (a webhook is disabled with the reason).
/// </summary>
public static class KeyHoldHandler
{
    public static async Task<KeyHoldRefused?> Handle(HoldKey hold, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var usage = await session.LoadAsync<KeyUsage>(hold.KeyId, cancellation);
        if (usage is null || usage.KeyDeleted)
        {
            return new KeyHoldRefused(
                hold.KeyId, hold.HolderId, hold.Version,
                $"Its KeySafe key {hold.KeyId} was deleted before the change that chose it was saved; choose another key and enable it again.");
        }

        if (usage.Apply(hold.HolderId, hold.HolderName, holds: true, hold.Version, time.GetUtcNow()))
        {
            session.Store(usage);
        }

        return null;
    }

    public static async Task Handle(ReleaseKey release, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var usage = await session.LoadAsync<KeyUsage>(release.KeyId, cancellation);
        if (usage is not null && !usage.KeyDeleted && usage.Apply(release.HolderId, name: null, holds: false, release.Version, time.GetUtcNow()))
        {
            session.Store(usage);
        }
    }
}
