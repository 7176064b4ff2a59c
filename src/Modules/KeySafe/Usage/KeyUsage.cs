namespace Webhooks.KeySafe.Usage;

/// <summary>
/// Which webhooks use a key. Stored with optimistic concurrency: a reservation (a webhook about to be saved) and a
/// deletion of the key both write this one document, so one of two racing writers fails and neither check is lost.
/// </summary>
public sealed class KeyUsage
{
    /// <summary>A reservation not yet confirmed by the webhook's own message expires after this long.</summary>
    public static readonly TimeSpan ReservationLifetime = TimeSpan.FromMinutes(10);

    public Guid Id { get; set; }
    public bool KeyDeleted { get; set; }
    public Dictionary<Guid, WebhookUse> Webhooks { get; set; } = [];

    public IReadOnlyList<string> UsersAt(DateTimeOffset now) =>
        Webhooks.Values
            .Where(use => use.Confirmed || now - use.ReservedAt < ReservationLifetime)
            .Select(use => use.Name)
            .Order(StringComparer.Ordinal)
            .ToList();
}

/// <summary>A webhook's use of a key: reserved before the webhook is saved, confirmed by its <c>WebhookChanged</c>.</summary>
public sealed record WebhookUse(string Name, bool Confirmed, DateTimeOffset ReservedAt);

/// <summary>The key a webhook uses, as of the newest webhook message seen (messages may arrive out of order).</summary>
public sealed class WebhookKeyLink
{
    public Guid Id { get; set; }
    public Guid? KeyId { get; set; }

    /// <summary>Keys reserved for this webhook and not yet settled by one of its messages.</summary>
    public List<Guid> Reserved { get; set; } = [];

    public long Version { get; set; }
    public bool Removed { get; set; }
}
