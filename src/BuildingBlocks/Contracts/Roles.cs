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

    /// <summary>Every role, in a stable order.</summary>
    public static IReadOnlyList<string> All { get; } = [Admin, KeySafe, Auditor, Publisher];
}
