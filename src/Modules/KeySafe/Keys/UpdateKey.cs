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

public static class UpdateKeyEndpoint
{
    public static async Task<ProblemDetails> ValidateAsync(Guid id, UpdateKey request, IQuerySession session, CancellationToken cancellation)
    {
        var errors = new FieldErrors();
        // At most ten named back (each name at most 100 characters): a body of a thousand stray fields is refused all the same.
        foreach (var other in (request.Others?.Keys ?? []).Take(10).Select(name => name.Length > 100 ? name[..100] + "..." : name))
        {
            // A credential's fields decide where and how the secret goes: whoever may edit a key without seeing its
            // secret must not send it somewhere new. Only a rotation, which gives the secret anew, changes them.
            errors.Add(other, KeyRules.IsCredentialField(other)
                ? $"{other} changes only with a rotation (PUT /keysafe/keys/{{id}}/secret, with the type's fields and the secret anew)."
                : $"{other} is not a field of a key's details: send name, description or allowedOrigins.");
        }

        if (errors.ToProblem() is { Status: not null } unknown)
        {
            return unknown;
        }

        if (request.Name is null && request.Description is null && request.AllowedOrigins is null)
        {
            errors.Add("name", "Send a name, a description, allowed origins, or any of them together.");
        }

        if (request.Name is not null)
        {
            KeyRules.Name(errors, request.Name);
        }

        KeyRules.Description(errors, request.Description);
        KeyRules.AllowedOrigins(errors, request.AllowedOrigins);
        if (errors.ToProblem() is { Status: not null } invalid)
        {
            return invalid;
        }

        var name = request.Name?.Trim();
        return name is not null && await KeyNames.Taken(session, name, except: id, cancellation) ? KeyNames.Conflict(name) : WolverineContinue.NoProblems;
    }

    /// <summary>
    /// Renames a key, changes its description, or binds it to the origins it may be sent to (an empty list: any). The
    /// secret is untouched. Webhooks already using the key whose URL is outside new origins fail their deliveries.
    /// </summary>
    [WolverinePatch("/keysafe/keys/{id}", OperationId = "UpdateKey")]
    [Authorize(Roles = Roles.KeySafe)]
    [Tags("KeySafe")]
    [ProducesResponseType<KeyView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static (IResult, Events, OutgoingMessages) Patch(
        UpdateKey request,
        [WriteAggregate("id", OnMissing = OnMissing.ProblemDetailsWith404, MissingMessage = KeyProblems.Missing)] Key key,
        ClaimsPrincipal user, TimeProvider time)
    {
        var events = Decide(request, key, user.Actor(), time.GetUtcNow());
        var next = events.Aggregate(key, Key.Next);
        OutgoingMessages messages = events is [KeyDetailsChanged { ChangedFields: var fields }] && fields.Contains("allowedOrigins")
            ? [new KeyBindingChanged(key.Id, next.Version)]
            : [];
        return (Results.Ok(next.ToView()), [.. events], messages);
    }

    /// <summary>The changed details with the fields that changed, or nothing when nothing does.</summary>
    public static IReadOnlyList<object> Decide(UpdateKey request, Key key, string actor, DateTimeOffset now)
    {
        var name = request.Name?.Trim() ?? key.Name;
        var description = request.Description is null ? key.Description : CreateKeyEndpoint.Blank(request.Description);
        var origins = KeyRules.AllowedOrigins(new FieldErrors(), request.AllowedOrigins) ?? key.AllowedOrigins;
        List<string> changed =
        [
            .. name != key.Name ? ["name"] : Array.Empty<string>(),
            .. description != key.Description ? ["description"] : Array.Empty<string>(),
            .. !origins.SequenceEqual(key.AllowedOrigins) ? ["allowedOrigins"] : Array.Empty<string>(),
        ];
        return changed.Count == 0 ? [] : [new KeyDetailsChanged(key.Id, name, description, changed, actor, now, origins)];
    }
}

internal static class KeyProblems
{
    /// <summary>Wolverine fills {Id} with the route's id.</summary>
    public const string Missing = "There is no KeySafe key with id {Id}.";

    public static ProblemDetails NotFound(Guid id) => Problems.NotFound($"There is no KeySafe key with id {id}.");
}
