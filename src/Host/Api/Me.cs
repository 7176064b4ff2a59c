using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Wolverine.Http;

namespace Webhooks.Host.Api;

public static class MeEndpoint
{
    /// <summary>Who the API key is: its name, roles and (for a limited publisher) applications. Any role may ask.</summary>
    [WolverineGet("/me", OperationId = "GetMe")]
    [Microsoft.AspNetCore.Authorization.Authorize(Roles = $"{Roles.Admin},{Roles.KeySafe},{Roles.Auditor},{Roles.Publisher},{Roles.Metrics}")]
    [Tags("API keys")]
    public static CallerView Get(ClaimsPrincipal user) => new(
        user.Actor(),
        Roles.All.Where(user.IsInRole).ToList(),
        user.FindAll(WebhooksClaims.Application).Select(c => c.Value).Order(StringComparer.Ordinal).ToList());
}
