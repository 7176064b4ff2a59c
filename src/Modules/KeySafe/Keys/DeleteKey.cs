using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.KeySafe.Contracts;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace Webhooks.KeySafe.Keys;

public static class DeleteKeyEndpoint
{
    /// <summary>Deletes a key and destroys its secret. Refused (409, naming them) while webhooks use it.</summary>
    [WolverineDelete("/keysafe/keys/{id}", OperationId = "DeleteKey")]
    [Authorize(Roles = Roles.KeySafe)]
    [Tags("KeySafe")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public static async Task<(IResult, Events, OutgoingMessages)> Delete(
        [WriteAggregate("id", OnMissing = OnMissing.ProblemDetailsWith404, MissingMessage = KeyProblems.Missing)] Key key,
        IDocumentSession session, ClaimsPrincipal user, TimeProvider time, CancellationToken cancellation)
    {
        var usage = await session.LoadAsync<Usage.KeyUsage>(key.Id, cancellation) ?? new Usage.KeyUsage { Id = key.Id };
        var now = time.GetUtcNow();
        if (Decide(key, usage, now) is { } refused)
        {
            return (Results.Problem(refused), [], []);
        }

        session.Delete<KeySecret>(key.Id);
        // Written with an optimistic concurrency check: a hold racing this deletion makes one of them fail and retry.
        usage.KeyDeleted = true;
        session.Store(usage);
        return (Results.NoContent(), [new KeyDeleted(key.Id, key.Name, user.Actor(), now)], [new KeyRemoved(key.Id)]);
    }

    /// <summary>Refused (409, naming them) while holders hold the key; otherwise null: delete it.</summary>
    public static ProblemDetails? Decide(Key key, Usage.KeyUsage usage, DateTimeOffset now)
    {
        var holders = usage.HoldersAt(now);
        if (holders.Count == 0)
        {
            return null;
        }

        var problem = Problems.Conflict(
            $"The key '{key.Name}' is used by {holders.Count} webhook(s): {string.Join(", ", holders)}. Point them at another key first.");
        problem.Extensions["webhooks"] = holders;
        return problem;
    }
}
