using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace Webhooks.BuildingBlocks;

/// <summary>RFC 9457 problems with this API's type URNs, so clients can branch on <c>type</c>.</summary>
public static class Problems
{
    public const string ValidationType = "urn:webhooks:validation";
    public const string NotFoundType = "urn:webhooks:not-found";
    public const string ConflictType = "urn:webhooks:conflict";
    public const string ForbiddenType = "urn:webhooks:forbidden";
    public const string PreconditionFailedType = "urn:webhooks:precondition-failed";
    public const string GoneType = "urn:webhooks:gone";

    public static ProblemDetails NotFound(string detail) => new()
    {
        Type = NotFoundType,
        Title = "Not found",
        Status = StatusCodes.Status404NotFound,
        Detail = detail,
    };

    public static ProblemDetails Conflict(string detail) => new()
    {
        Type = ConflictType,
        Title = "Conflict",
        Status = StatusCodes.Status409Conflict,
        Detail = detail,
    };

    public static ProblemDetails Forbidden(string detail) => new()
    {
        Type = ForbiddenType,
        Title = "Forbidden",
        Status = StatusCodes.Status403Forbidden,
        Detail = detail,
    };

    /// <summary>410: it existed, and retention archived or removed it (<paramref name="archivedAt"/>: when, an extension member).</summary>
    public static ProblemDetails Gone(string detail, DateTimeOffset archivedAt) => new()
    {
        Type = GoneType,
        Title = "Gone",
        Status = StatusCodes.Status410Gone,
        Detail = detail,
        Extensions = { ["archivedAt"] = archivedAt },
    };

    public static ProblemDetails PreconditionFailed(string detail) => new()
    {
        Type = PreconditionFailedType,
        Title = "Precondition failed",
        Status = StatusCodes.Status412PreconditionFailed,
        Detail = detail,
    };
}

/// <summary>Collects field errors and turns them into one 400 validation problem (or none).</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> errors = new(StringComparer.Ordinal);

    public bool IsEmpty => errors.Count == 0;

    /// <summary>How many errors were added so far (so a rule can tell whether its own checks added any).</summary>
    public int Count => errors.Values.Sum(messages => messages.Count);

    public FieldErrors Add(string field, string message)
    {
        if (!errors.TryGetValue(field, out var messages))
        {
            errors[field] = messages = [];
        }

        messages.Add(message);
        return this;
    }

    public FieldErrors Check(bool valid, string field, string message) => valid ? this : Add(field, message);

    /// <summary>The problem to answer, or <see cref="WolverineContinue.NoProblems"/> when nothing is wrong.</summary>
    public ProblemDetails ToProblem()
    {
        if (IsEmpty)
        {
            return WolverineContinue.NoProblems;
        }

        var fields = string.Join(", ", errors.Keys);
        return new ValidationProblemDetails(errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal))
        {
            Type = Problems.ValidationType,
            Title = "The request is not valid",
            Status = StatusCodes.Status400BadRequest,
            Detail = $"Correct these fields and send the request again: {fields}.",
        };
    }
}
