using Npgsql;

namespace Webhooks.Host.Api;

/// <summary>
/// The database cannot be reached for now (connection refused or lost, server starting or shutting down): what
/// Npgsql calls transient. Requests answer 503 with Retry-After; message handlers wait and try again in place.
/// </summary>
public static class DatabaseOutage
{
    /// <summary>
    /// How long a message handler waits between tries while the database is away: about two minutes in all. A
    /// handler holds its message meanwhile (nothing is lost, nothing spins); only an outage longer than that moves
    /// messages to Wolverine's dead-letter table.
    /// </summary>
    public static readonly TimeSpan[] Cooldowns =
    [
        TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2),
        TimeSpan.FromSeconds(4), .. Enumerable.Repeat(TimeSpan.FromSeconds(8), 14),
    ];

    public static bool Is(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is NpgsqlException { IsTransient: true })
            {
                return true;
            }
        }

        return false;
    }
}
