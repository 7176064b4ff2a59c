using Webhooks.Contracts;

namespace Webhooks.Tests.Infrastructure;

/// <summary>
/// The API keys the test host is configured with: one for every non-empty set of roles (so a test can always find
/// a key that lacks exactly the roles an endpoint needs), and a publisher limited to the application "crm".
/// </summary>
public static class TestKeys
{
    public const string LimitedPublisher = "test-key-publisher-limited-to-crm";
    public const string LimitedApplication = "crm";

    public static string Admin => For(Roles.Admin);
    public static string Auditor => For(Roles.Auditor);
    public static string Publisher => For(Roles.Publisher);
    public static string KeySafe => For(Roles.KeySafe);

    /// <summary>The key holding exactly these roles.</summary>
    public static string For(params string[] roles) =>
        "test-key-" + string.Join("-", Roles.All.Where(roles.Contains));

    /// <summary>Every role set, as configuration settings for the host.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Settings()
    {
        for (var mask = 1; mask < 1 << Roles.All.Count; mask++)
        {
            var roles = Roles.All.Where((_, i) => (mask & (1 << i)) != 0).ToArray();
            var name = string.Join("-", roles);
            yield return new($"Webhooks:Auth:ApiKeys:{name}:Key", For(roles));
            for (var i = 0; i < roles.Length; i++)
            {
                yield return new($"Webhooks:Auth:ApiKeys:{name}:Roles:{i}", roles[i]);
            }
        }

        yield return new("Webhooks:Auth:ApiKeys:crm-publisher:Key", LimitedPublisher);
        yield return new("Webhooks:Auth:ApiKeys:crm-publisher:Roles:0", Roles.Publisher);
        yield return new("Webhooks:Auth:ApiKeys:crm-publisher:Applications:0", LimitedApplication);
    }
}
