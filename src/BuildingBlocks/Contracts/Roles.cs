namespace Webhooks.Contracts;

/// <summary>The roles an API key can hold.</summary>
public static class Roles
{
    /// <summary>Defines webhooks, event sources and request bins, and redelivers.</summary>
    public const string Admin = "admin";

    /// <summary>Creates and rotates credentials in KeySafe (Hornbill's manageKeysafe right).</summary>
    public const string KeySafe = "keysafe";

    /// <summary>Reads history: configuration changes and deliveries. Never changes anything.</summary>
    public const string Auditor = "auditor";

    /// <summary>Publishes events, optionally only for named applications.</summary>
    public const string Publisher = "publisher";

    /// <summary>Scrapes <c>/metrics</c> (a Prometheus server's key), and nothing else.</summary>
    public const string Metrics = "metrics";

    /// <summary>Every role, in a stable order.</summary>
    public static IReadOnlyList<string> All { get; } = [Admin, KeySafe, Auditor, Publisher, Metrics];
}

/// <summary>The answer of <c>GET /me</c>: who the API key is and what it may do.</summary>
/// <param name="Name">The key's configured name: the actor recorded in every event it causes.</param>
/// <param name="Roles">Its roles (<see cref="Roles"/>).</param>
/// <param name="Applications">For a publisher limited to applications, those applications; empty otherwise.</param>
public sealed record CallerView(string Name, IReadOnlyList<string> Roles, IReadOnlyList<string> Applications);
