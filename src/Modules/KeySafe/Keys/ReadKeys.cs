using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.KeySafe.Contracts;
using Wolverine.Http;

namespace Webhooks.KeySafe.Keys;

public static class ListKeysEndpoint
{
    public static ProblemDetails Validate(string? after, int? limit) => Paging.Validate(after, limit);

    /// <summary>Keys by name. Never a secret. Admins may list them too: they choose a webhook's key.</summary>
    [WolverineGet("/keysafe/keys", OperationId = "ListKeys")]
    [Authorize(Roles = $"{Roles.KeySafe},{Roles.Auditor},{Roles.Admin}")]
    [Tags("KeySafe")]
    public static async Task<Page<KeyView>> Get(string? after, int? limit, IQuerySession session, CancellationToken cancellation)
    {
        Cursor.TryDecode(after, out var afterName);
        var take = limit ?? Cursor.DefaultLimit;
        var rows = await session.QueryAsync<Key>(
            "where data ->> 'normalizedName' > ? order by data ->> 'normalizedName' limit ?", cancellation, afterName ?? "", take + 1);
        return Paging.Page(rows, take, k => k.ToView(), k => k.NormalizedName);
    }
}

public static class GetKeyEndpoint
{
    [WolverineGet("/keysafe/keys/{id}", OperationId = "GetKey")]
    [Authorize(Roles = $"{Roles.KeySafe},{Roles.Auditor},{Roles.Admin}")]
    [Tags("KeySafe")]
    [ProducesResponseType<KeyView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<Key>(id, cancellation) is { } key
            ? Results.Ok(key.ToView())
            : Results.Problem(KeyProblems.NotFound(id));
}

public static class KeyHistoryEndpoint
{
    public static ProblemDetails Validate(string? after, int? limit) => Paging.Validate(after, limit);

    /// <summary>Every change to a key, oldest first, also after its deletion: who, what, when. Never a secret.</summary>
    [WolverineGet("/keysafe/keys/{id}/history", OperationId = "GetKeyHistory")]
    [Authorize(Roles = $"{Roles.KeySafe},{Roles.Auditor}")]
    [Tags("KeySafe")]
    [ProducesResponseType<Page<KeyChange>>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(Guid id, string? after, int? limit, IQuerySession session, CancellationToken cancellation)
    {
        var events = await session.Events.FetchStreamAsync(id, token: cancellation);
        if (events.Count == 0)
        {
            return Results.Problem(KeyProblems.NotFound(id));
        }

        return Results.Ok(Paging.ByVersion(
            events, e => e.Version, e => Describe(e.Version, e.Data) ?? new KeyChange(e.Version, e.EventTypeName, e.Timestamp, "unknown", []),
            after, limit));
    }

    /// <summary>A creation's fields: the key's, its type's shown fields, the secret, and its origins when bound.</summary>
    private static IReadOnlyList<string> Created(KeyCreated e)
    {
        var facts = (e.Facts ?? KeyFacts.None).Differences(KeyFacts.None);
        var shown = e.Type == KeyTypes.HttpBasic ? ["username"] : facts;
        return ["name", "type", "description", .. shown, "secret", .. (e.AllowedOrigins is { Count: > 0 } ? new[] { "allowedOrigins" } : [])];
    }

    /// <summary>How each event of a key's stream reads, in its history and in the audit log: the one description of them.</summary>
    public static KeyChange? Describe(long version, object data) => data switch
    {
        KeyCreated e => new(version, "created", e.At, e.Actor, Created(e)),
        KeyDetailsChanged e => new(version, "detailsChanged", e.At, e.Actor, e.ChangedFields),
        KeySecretRotated e => new(version, "secretRotated", e.At, e.Actor, e.Changed ?? (e.UsernameChanged ? ["username", "secret"] : ["secret"])),
        KeyDeleted e => new(version, "deleted", e.At, e.Actor, []),
        _ => null,
    };
}
