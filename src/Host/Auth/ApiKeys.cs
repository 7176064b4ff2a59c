using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;

namespace Webhooks.Host.Auth;

/// <summary>One configured key: <c>Webhooks:Auth:ApiKeys:&lt;name&gt;</c>.</summary>
public sealed class ApiKeyOptions
{
    public string? Key { get; set; }
    public List<string> Roles { get; set; } = [];
    public List<string> Applications { get; set; } = [];
}

/// <summary>
/// The configured API keys, held as SHA-256 digests and matched in constant time (every key is compared, whatever
/// matches), so neither the key list nor a timing difference tells an attacker how close a guess was.
/// </summary>
public sealed class ApiKeys
{
    public const string DevelopmentKey = "dev-admin-key";
    public const string DevelopmentKeyName = "dev-admin";

    private readonly List<(byte[] Digest, ClaimsPrincipal Principal)> keys;

    private ApiKeys(List<(byte[] Digest, ClaimsPrincipal Principal)> keys) => this.keys = keys;

    /// <summary>Whether the only key is the Development environment's built-in one.</summary>
    public bool UsesDevelopmentKey { get; private init; }

    public static ApiKeys FromConfiguration(IConfiguration configuration, bool isDevelopment)
    {
        var configured = configuration.GetSection("Webhooks:Auth:ApiKeys").Get<Dictionary<string, ApiKeyOptions>>() ?? [];
        var problems = new List<string>();
        var keys = new List<(byte[] Digest, ClaimsPrincipal Principal)>();

        foreach (var (name, options) in configured)
        {
            if (string.IsNullOrWhiteSpace(options.Key))
            {
                problems.Add($"API key '{name}' has no Key.");
                continue;
            }

            var unknown = options.Roles.Where(r => !Roles.All.Contains(r, StringComparer.Ordinal)).ToList();
            if (unknown.Count > 0)
            {
                problems.Add($"API key '{name}' has unknown roles {string.Join(", ", unknown)}; roles are {string.Join(", ", Roles.All)}.");
            }

            if (options.Roles.Count == 0)
            {
                problems.Add($"API key '{name}' has no Roles.");
            }

            var digest = Digest(options.Key);
            if (keys.Any(k => CryptographicOperations.FixedTimeEquals(k.Item1, digest)))
            {
                problems.Add($"API key '{name}' has the same Key as another key.");
            }

            keys.Add((digest, Principal(name, options.Roles, options.Applications)));
        }

        var useDevelopmentKey = isDevelopment && keys.Count == 0 && problems.Count == 0;
        if (useDevelopmentKey)
        {
            keys.Add((Digest(DevelopmentKey), Principal(DevelopmentKeyName, Roles.All, [])));
        }

        if (problems.Count > 0)
        {
            throw new StartupException("Webhooks:Auth:ApiKeys is not valid:\n  " + string.Join("\n  ", problems));
        }

        if (keys.Count == 0)
        {
            throw new StartupException(
                "No API keys are configured, and outside the Development environment there is no default key. Configure " +
                "at least one, e.g. Webhooks__Auth__ApiKeys__ops__Key=<a long random secret> and " +
                "Webhooks__Auth__ApiKeys__ops__Roles__0=admin (roles: admin, keysafe, auditor, publisher).");
        }

        return new ApiKeys(keys) { UsesDevelopmentKey = useDevelopmentKey };
    }

    public ClaimsPrincipal? Find(string presented)
    {
        var digest = Digest(presented);
        ClaimsPrincipal? found = null;
        foreach (var (candidate, principal) in keys)
        {
            if (CryptographicOperations.FixedTimeEquals(candidate, digest))
            {
                found = principal;
            }
        }

        return found;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static ClaimsPrincipal Principal(string name, IEnumerable<string> roles, IEnumerable<string> applications)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        claims.AddRange(roles.Distinct(StringComparer.Ordinal).Select(r => new Claim(ClaimTypes.Role, r)));
        claims.AddRange(applications.Select(a => new Claim(WebhooksClaims.Application, a)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, ApiKeyAuthentication.SchemeName));
    }
}
