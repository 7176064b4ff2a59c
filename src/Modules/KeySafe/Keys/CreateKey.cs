using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.KeySafe.Contracts;
using Webhooks.KeySafe.Crypto;
using Webhooks.KeySafe.Usage;
using Wolverine.Http;

namespace Webhooks.KeySafe.Keys;

public static class CreateKeyEndpoint
{
    public static ProblemDetails Validate(CreateKey request, TimeProvider time)
    {
        var errors = new FieldErrors();
        KeyRules.Name(errors, request.Name);
        KeyRules.Type(errors, request.Type);
        KeyRules.Description(errors, request.Description);
        KeyRules.AllowedOrigins(errors, request.AllowedOrigins);
        KeyRules.Credential(errors, request.Type, KeyMaterial.Given(request), time.GetUtcNow());
        return errors.ToProblem();
    }

    /// <summary>
    /// Creates a key of any type (httpBasic, bearer, apiKeyHeader, oauth2ClientCredentials, mtls), with its type's
    /// credential fields. The secret is encrypted at once and can never be read back, only rotated. With allowedOrigins
    /// the key is sent only to those origins: a webhook aimed elsewhere cannot use it.
    /// </summary>
    [WolverinePost("/keysafe/keys", OperationId = "CreateKey")]
    [Authorize(Roles = Roles.KeySafe)]
    [Tags("KeySafe")]
    [ProducesResponseType<KeyView>(StatusCodes.Status201Created)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public static async Task<IResult> Post(
        CreateKey request, IDocumentSession session, SecretBox box, ClaimsPrincipal user, TimeProvider time, CancellationToken cancellation)
    {
        var name = request.Name!.Trim();
        if (await KeyNames.Taken(session, name, except: null, cancellation))
        {
            return Results.Problem(KeyNames.Conflict(name));
        }

        var id = Guid.CreateVersion7();
        var now = time.GetUtcNow();
        var (material, facts) = KeyRules.Credential(new FieldErrors(), request.Type, KeyMaterial.Given(request), now)!.Value;
        var created = new KeyCreated(
            id, name, request.Type!, Blank(request.Description), material.Username, user.Actor(), now,
            KeyRules.AllowedOrigins(new FieldErrors(), request.AllowedOrigins) ?? [], facts);
        session.Events.StartStream<Key>(id, created);
        session.Store(Secrets.Seal(box, id, material));
        session.Store(new KeyUsage { Id = id });
        return Results.Created($"/keysafe/keys/{id}", Key.Create(created).ToView());
    }

    internal static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}

internal static class KeyNames
{
    public static ProblemDetails Conflict(string name) => Problems.Conflict($"A key named '{name}' exists already; choose another name.");

    public static async Task<bool> Taken(IQuerySession session, string name, Guid? except, CancellationToken cancellation)
    {
        var normalized = Key.Normalize(name);
        return await session.Query<Key>().AnyAsync(k => k.NormalizedName == normalized && k.Id != except, cancellation);
    }
}
