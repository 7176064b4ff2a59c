using System.Security.Claims;
using Webhooks.Contracts;

namespace Webhooks.BuildingBlocks;

public static class WebhooksClaims
{
    /// <summary>An application a publisher key is limited to; a publisher without any is not limited.</summary>
    public const string Application = "webhooks:application";
}

public static class PrincipalExtensions
{
    /// <summary>Who is acting, as recorded in events and the audit log: the API key's configured name.</summary>
    public static string Actor(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";

    /// <summary>
    /// Whether the caller may act for an application: admins for any, publishers for those their key names
    /// (or any, when the key names none).
    /// </summary>
    public static bool MayActFor(this ClaimsPrincipal user, string application)
    {
        if (user.IsInRole(Roles.Admin))
        {
            return true;
        }

        if (!user.IsInRole(Roles.Publisher))
        {
            return false;
        }

        var limits = user.FindAll(WebhooksClaims.Application).ToList();
        return limits.Count == 0 || limits.Any(c => string.Equals(c.Value, application, StringComparison.Ordinal));
    }

    /// <summary>The applications a limited publisher may see, or null when the caller may see all.</summary>
    public static IReadOnlySet<string>? VisibleApplications(this ClaimsPrincipal user)
    {
        if (user.IsInRole(Roles.Admin) || user.IsInRole(Roles.Auditor) || !user.IsInRole(Roles.Publisher))
        {
            return null;
        }

        var limits = user.FindAll(WebhooksClaims.Application).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return limits.Count == 0 ? null : limits;
    }
}
