using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.KeySafe.Contracts;
using Webhooks.KeySafe.Crypto;
using Wolverine;
using Wolverine.Http;

namespace Webhooks.KeySafe.Keys;

public static class UpdateKeyEndpoint
{
    public static ProblemDetails Validate(UpdateKey request)
    {
        var errors = new FieldErrors();
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
        return errors.ToProblem();
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
    public static async Task<(IResult, OutgoingMessages)> Patch(
        Guid id, UpdateKey request, IDocumentSession session, ClaimsPrincipal user, TimeProvider time, CancellationToken cancellation)
    {
        // Marten refuses the empty GUID as a stream id; no key has it.
        var stream = id == Guid.Empty ? null : await session.Events.FetchForWriting<Key>(id, cancellation);
        if (stream?.Aggregate is not { } key)
        {
            return (Results.Problem(KeyProblems.NotFound(id)), []);
        }

        var name = request.Name?.Trim() ?? key.Name;
        var description = request.Description is null ? key.Description : CreateKeyEndpoint.Blank(request.Description);
        if (Key.Normalize(name) != key.NormalizedName && await KeyNames.Taken(session, name, except: id, cancellation))
        {
            return (Results.Problem(KeyNames.Conflict(name)), []);
        }

        var origins = KeyRules.AllowedOrigins(new FieldErrors(), request.AllowedOrigins) ?? key.AllowedOrigins;

        var changed = new List<string>();
        if (name != key.Name)
        {
            changed.Add("name");
        }

        if (description != key.Description)
        {
            changed.Add("description");
        }

        if (!origins.SequenceEqual(key.AllowedOrigins))
        {
            changed.Add("allowedOrigins");
        }

        if (changed.Count == 0)
        {
            return (Results.Ok(key.ToView()), []);
        }

        var details = new KeyDetailsChanged(id, name, description, changed, user.Actor(), time.GetUtcNow(), origins);
        stream.AppendOne(details);
        var next = key.Apply(details);
        return (Results.Ok(next.ToView()), changed.Contains("allowedOrigins") ? [new KeyBindingChanged(id, next.Version)] : []);
    }
}

public static class RotateKeySecretEndpoint
{
    public static ProblemDetails Validate(RotateKeySecret request)
    {
        var errors = new FieldErrors();
        KeyRules.HttpBasic(errors, request.Username, request.Password);
        return errors.ToProblem();
    }

    /// <summary>Replaces a key's secret. Webhooks using the key send the new credential from their next call on.</summary>
    [WolverinePut("/keysafe/keys/{id}/secret", OperationId = "RotateKeySecret")]
    [Authorize(Roles = Roles.KeySafe)]
    [Tags("KeySafe")]
    [ProducesResponseType<KeyView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<(IResult, OutgoingMessages)> Put(
        Guid id, RotateKeySecret request, IDocumentSession session, SecretBox box, ClaimsPrincipal user, TimeProvider time,
        CancellationToken cancellation)
    {
        // Marten refuses the empty GUID as a stream id; no key has it.
        var stream = id == Guid.Empty ? null : await session.Events.FetchForWriting<Key>(id, cancellation);
        if (stream?.Aggregate is not { } key)
        {
            return (Results.Problem(KeyProblems.NotFound(id)), []);
        }

        var rotated = new KeySecretRotated(id, request.Username, request.Username != key.Username, user.Actor(), time.GetUtcNow());
        stream.AppendOne(rotated);
        session.Store(Secrets.SealHttpBasic(box, id, request.Username!, request.Password!));
        var next = key.Apply(rotated);
        return (Results.Ok(next.ToView()), [new KeySecretChanged(id, next.Version)]);
    }
}

public static class DeleteKeyEndpoint
{
    /// <summary>Deletes a key and destroys its secret. Refused (409, naming them) while webhooks use it.</summary>
    [WolverineDelete("/keysafe/keys/{id}", OperationId = "DeleteKey")]
    [Authorize(Roles = Roles.KeySafe)]
    [Tags("KeySafe")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public static async Task<(IResult, OutgoingMessages)> Delete(
        Guid id, IDocumentSession session, ClaimsPrincipal user, TimeProvider time, CancellationToken cancellation)
    {
        if (id == Guid.Empty)
        {
            return (Results.Problem(KeyProblems.NotFound(id)), []);
        }

        var stream = await session.Events.FetchForWriting<Key>(id, cancellation);
        var usage = await session.LoadAsync<Usage.KeyUsage>(id, cancellation);
        if (stream.Aggregate is not { } key || usage is null)
        {
            return (Results.Problem(KeyProblems.NotFound(id)), []);
        }

        var now = time.GetUtcNow();
        var users = usage.HoldersAt(now);
        if (users.Count > 0)
        {
            var problem = Problems.Conflict(
                $"The key '{key.Name}' is used by {users.Count} webhook(s): {string.Join(", ", users)}. Point them at another key first.");
            problem.Extensions["webhooks"] = users;
            return (Results.Problem(problem), []);
        }

        stream.AppendOne(new KeyDeleted(id, key.Name, user.Actor(), now));
        session.Delete<KeySecret>(id);
        // Written with an optimistic concurrency check: a reservation racing this deletion makes one of them fail.
        usage.KeyDeleted = true;
        session.Store(usage);
        return (Results.NoContent(), [new KeyRemoved(id)]);
    }
}

internal static class KeyProblems
{
    public static ProblemDetails NotFound(Guid id) => Problems.NotFound($"There is no KeySafe key with id {id}.");
}
