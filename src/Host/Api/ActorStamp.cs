using System.Security.Claims;
using Marten;
using Webhooks.BuildingBlocks;
using Wolverine;
using Wolverine.Http;
using Wolverine.Runtime.Handlers;

namespace Webhooks.Host.Api;

/// <summary>
/// Stamps the acting API key's name on the Marten session of every endpoint that writes, so each event's
/// metadata (<c>user_name</c>) names who caused it, beside the actor the event itself carries.
/// </summary>
public static class ActorStamp
{
    public static void Before(IDocumentSession session, ClaimsPrincipal user) => session.LastModifiedBy = user.Actor();

    /// <summary>Endpoints that take a session, or write through Wolverine's aggregate workflow (which opens one).</summary>
    public static bool Applies(HttpChain chain) =>
        chain.Method.Method.GetParameters().Any(p =>
            p.ParameterType == typeof(IDocumentSession)
            || p.GetCustomAttributes(inherit: true).Any(a => a is Wolverine.Persistence.EventSourcing.WriteModelAttribute));
}

/// <summary>
/// The same for command handlers an endpoint invokes (the webhook and catalog use cases): the command says who acts.
/// </summary>
public static class CommandActorStamp
{
    public static void Before(IDocumentSession session, Envelope envelope)
    {
        if (envelope.Message is IActorCommand command)
        {
            session.LastModifiedBy = command.Actor;
        }
    }

    public static bool Applies(HandlerChain chain) => typeof(IActorCommand).IsAssignableFrom(chain.MessageType);
}
