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
using Webhooks.KeySafe.Crypto;

namespace Webhooks.KeySafe.Keys;

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
    public static (IResult, Events, OutgoingMessages) Put(
        RotateKeySecret request,
        [WriteAggregate("id", OnMissing = OnMissing.ProblemDetailsWith404, MissingMessage = KeyProblems.Missing)] Key key,
        IDocumentSession session, SecretBox box, ClaimsPrincipal user, TimeProvider time)
    {
        var rotated = Decide(request, key, user.Actor(), time.GetUtcNow());
        // The new ciphertext replaces the old in the same transaction as the event that says so.
        session.Store(Secrets.SealHttpBasic(box, key.Id, request.Username!, request.Password!));
        var next = Key.Next(key, rotated);
        return (Results.Ok(next.ToView()), [rotated], [new KeySecretChanged(key.Id, next.Version)]);
    }

    public static KeySecretRotated Decide(RotateKeySecret request, Key key, string actor, DateTimeOffset now) =>
        new(key.Id, request.Username, request.Username != key.Username, actor, now);
}
