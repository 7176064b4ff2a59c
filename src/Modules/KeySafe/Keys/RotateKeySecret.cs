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
    /// <summary>
    /// Replaces a key's credential with a whole new one in the fields of its type (the type never changes). Webhooks
    /// using the key send the new credential from their next call on (an OAuth token of the old one is dropped).
    /// </summary>
    [WolverinePut("/keysafe/keys/{id}/secret", OperationId = "RotateKeySecret")]
    [Authorize(Roles = Roles.KeySafe)]
    [Tags("KeySafe")]
    [ProducesResponseType<KeyView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static (IResult, Events, OutgoingMessages) Put(
        RotateKeySecret request,
        [WriteAggregate("id", OnMissing = OnMissing.ProblemDetailsWith404, MissingMessage = KeyProblems.Missing)] Key key,
        IDocumentSession session, SecretBox box, ClaimsPrincipal user, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var errors = new FieldErrors();
        // Checked here, not in a Validate step: which fields are valid depends on the key's type.
        if (KeyRules.Credential(errors, key.Type, KeyMaterial.Given(request), now) is not var (material, facts))
        {
            return (Results.Problem(errors.ToProblem()), [], []);
        }

        var rotated = Decide(material, facts, key, user.Actor(), now);
        // The new ciphertext replaces the old in the same transaction as the event that says so.
        session.Store(Secrets.Seal(box, key.Id, material));
        var next = Key.Next(key, rotated);
        return (Results.Ok(next.ToView()), [rotated], [new KeySecretChanged(key.Id, next.Version)]);
    }

    /// <summary>The rotation's event: the new shown fields, and which of them changed beside the secret.</summary>
    public static KeySecretRotated Decide(KeyMaterial material, KeyFacts facts, Key key, string actor, DateTimeOffset now)
    {
        var usernameChanged = material.Username != key.Username;
        List<string> changed = [.. usernameChanged ? ["username"] : Array.Empty<string>(), .. facts.Differences(key.Facts), "secret"];
        return new(key.Id, material.Username, usernameChanged, actor, now, facts, changed);
    }
}
