using System.Security.Claims;
using Marten;
using Webhooks.BuildingBlocks;
using Wolverine.Http;

namespace Webhooks.Host.Api;

/// <summary>
/// Stamps the acting API key's name on the Marten session of every endpoint that writes, so each event's
/// metadata (<c>user_name</c>) names who caused it, beside the actor the event itself carries.
/// </summary>
public static class ActorStamp
{
    public static void Before(IDocumentSession session, ClaimsPrincipal user) => session.LastModifiedBy = user.Actor();

    public static bool Applies(HttpChain chain) =>
        chain.Method.Method.GetParameters().Any(p => p.ParameterType == typeof(IDocumentSession));
}
