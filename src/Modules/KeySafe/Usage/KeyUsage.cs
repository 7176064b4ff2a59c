using System.Text.Json.Serialization;

namespace Webhooks.KeySafe.Usage;

/// <summary>
/// Who holds a key. Stored with optimistic concurrency: a hold and a deletion of the key both write this one
/// document, so of two racing writers one fails and is retried on fresh state, and neither check is lost.
/// </summary>
public sealed class KeyUsage
{
    /// <summary>A reservation made before holds existed (written by an older version) expires after this long.</summary>
    public static readonly TimeSpan ReservationLifetime = TimeSpan.FromMinutes(10);

    public Guid Id { get; set; }
    public bool KeyDeleted { get; set; }

    /// <summary>Every holder seen, by id: holding or not, at the version of its newest hold or release.</summary>
    [JsonPropertyName("webhooks")]
    public Dictionary<Guid, KeyHolder> Holders { get; set; } = [];

    public IReadOnlyList<string> HoldersAt(DateTimeOffset now) =>
        Holders.Values
            .Where(holder => holder.Confirmed || (holder.Version == 0 && now - holder.ReservedAt < ReservationLifetime))
            .Select(holder => holder.Name)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Applies a hold or a release unless a newer one of the same holder was applied already.</summary>
    public bool Apply(Guid holderId, string? name, bool holds, long version, DateTimeOffset now)
    {
        if (Holders.TryGetValue(holderId, out var known) && known.Version >= version && version > 0)
        {
            return false;
        }

        Holders[holderId] = new KeyHolder(name ?? known?.Name ?? "", holds, now, version);
        return true;
    }
}

/// <summary>
/// A holder of a key: <see cref="Confirmed"/> while it holds it. (The JSON keeps the names an older version wrote:
/// its unconfirmed reservations, with version 0, expire after <see cref="KeyUsage.ReservationLifetime"/>.)
/// </summary>
public sealed record KeyHolder(string Name, bool Confirmed, DateTimeOffset ReservedAt, long Version = 0);
