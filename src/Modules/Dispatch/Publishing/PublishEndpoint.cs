using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Dispatch.Contracts;
using Wolverine.Http;

namespace Webhooks.Dispatch.Publishing;

public static class PublishEndpoint
{
    public const string RejectedType = "urn:webhooks:rejected";

    /// <summary>
    /// Publishes an entity event. 202 when no synchronous webhook matched (async deliveries are durably scheduled
    /// first); 200 when synchronous webhooks answered and none vetoed; 422 when a syncCritical webhook vetoed; 503
    /// with Retry-After when the node is behind (its delivery backlog or commit queue is over its bound) or the database
    /// cannot be reached: send it again after Retry-After with the same Idempotency-Key.
    /// </summary>
    [WolverinePost("/events", OperationId = "PublishEvent")]
    [Authorize(Roles = Roles.Publisher)]
    [Tags("Events")]
    [ProducesResponseType<PublishResponse>(StatusCodes.Status200OK)]
    [ProducesResponseType<PublishResponse>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status413PayloadTooLarge, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status422UnprocessableEntity, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status503ServiceUnavailable, "application/problem+json")]
    public static async Task<IResult> Post(
        PublishEntityEvent request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, Publisher publisher,
        ClaimsPrincipal user, HttpResponse response, CancellationToken cancellation)
    {
        PublishResult result;
        try
        {
            result = await publisher.Publish(request with { IdempotencyKey = idempotencyKey }, user, user.Actor(), cancellation);
        }
        catch (PublishRefusedException refused)
        {
            if (refused.RetryAfter is { } retryAfter)
            {
                response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Results.Problem(refused.Problem);
        }

        return Answer(result);
    }

    public static IResult Answer(PublishResult result) => result.Outcome switch
    {
        PublishOutcome.Accepted => Results.Json(new PublishResponse(result.EventId, null, result.Deliveries, null), statusCode: StatusCodes.Status202Accepted),
        PublishOutcome.Allowed => Results.Ok(new PublishResponse(result.EventId, true, result.Deliveries, result.Warnings)),
        _ => Results.Problem(Rejected(result)),
    };

    /// <summary>The 422 problem of a vetoed event.</summary>
    public static ProblemDetails Rejected(PublishResult result) => new()
    {
        Type = RejectedType,
        Title = "Rejected by a webhook",
        Status = StatusCodes.Status422UnprocessableEntity,
        Detail = result.Rejection!.Message,
        Extensions =
        {
            ["eventId"] = result.EventId,
            ["webhook"] = result.Rejection.Webhook,
            ["statusCode"] = result.Rejection.StatusCode,
            ["errors"] = result.Rejections.Select(r => new PublishWarning(r.Webhook, r.StatusCode, r.Message)).Concat(result.Warnings).ToList(),
            ["deliveries"] = result.Deliveries,
        },
    };
}

public static class PublishBatchEndpoint
{
    /// <summary>
    /// Publishes 1 to 1,000 events at once: each as <c>POST /events</c> would (its own checks, verdict, sync calls and
    /// <c>idempotencyKey</c>, given in the event itself), every event that goes ahead recorded in one commit. 200 with one
    /// result per event, in order, each with the status <c>POST /events</c> would have answered; 400 when the batch
    /// itself is malformed; 503 with Retry-After when the database cannot be reached (nothing was recorded: send the
    /// batch again, the keys make it safe).
    /// </summary>
    [WolverinePost("/events/batch", OperationId = "PublishEventBatch")]
    [Authorize(Roles = Roles.Publisher)]
    [Tags("Events")]
    [ProducesResponseType<PublishBatchResponse>(StatusCodes.Status200OK)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status413PayloadTooLarge, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status503ServiceUnavailable, "application/problem+json")]
    public static async Task<IResult> Post(PublishEntityEvents request, Publisher publisher, ClaimsPrincipal user, CancellationToken cancellation)
    {
        try
        {
            return Results.Ok(await publisher.PublishBatch(request, user, user.Actor(), cancellation));
        }
        catch (PublishRefusedException refused)
        {
            return Results.Problem(refused.Problem);
        }
    }
}

/// <summary>How a publish's outcome reads as one result of a batch: what <c>POST /events</c> would have answered.</summary>
public static class PublishAnswers
{
    public static PublishBatchResult Answered(PublishResult result) => result.Outcome switch
    {
        PublishOutcome.Accepted => new() { Status = StatusCodes.Status202Accepted, EventId = result.EventId, Deliveries = result.Deliveries },
        PublishOutcome.Allowed => new()
        {
            Status = StatusCodes.Status200OK, EventId = result.EventId, Allowed = true, Deliveries = result.Deliveries, Warnings = result.Warnings,
        },
        _ => Problem(PublishEndpoint.Rejected(result)),
    };

    public static PublishBatchResult Refused(PublishRefusedException refused)
    {
        var problem = Problem(refused.Problem);
        return refused.RetryAfter is { } wait
            ? problem with { Extensions = new Dictionary<string, JsonElement>(problem.Extensions ?? new Dictionary<string, JsonElement>())
                {
                    ["retryAfter"] = JsonSerializer.SerializeToElement((int)Math.Ceiling(wait.TotalSeconds)),
                } }
            : problem;
    }

    private static PublishBatchResult Problem(ProblemDetails problem)
    {
        var extensions = problem.Extensions.ToDictionary(e => e.Key, e => JsonSerializer.SerializeToElement(e.Value, Web), StringComparer.Ordinal);
        if (problem is HttpValidationProblemDetails validation)
        {
            extensions["errors"] = JsonSerializer.SerializeToElement(validation.Errors, Web);
        }

        extensions.Remove("eventId", out var eventId);
        extensions.Remove("deliveries", out var deliveries);
        return new PublishBatchResult
        {
            Status = problem.Status ?? StatusCodes.Status400BadRequest,
            Type = problem.Type,
            Title = problem.Title,
            Detail = problem.Detail,
            EventId = eventId.ValueKind == JsonValueKind.Undefined ? null : eventId.Deserialize<Guid>(Web),
            Deliveries = deliveries.ValueKind == JsonValueKind.Undefined ? null : deliveries.Deserialize<List<DeliverySummary>>(Web),
            Extensions = extensions.Count == 0 ? null : extensions,
        };
    }

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}

/// <summary>In-process publishing: the same pipeline and answer as <c>POST /events</c>; invalid input throws <see cref="PublishRefusedException"/>.</summary>
public static class InProcessPublishHandler
{
    public const string InProcessActor = "in-process";

    public static Task<PublishResult> Handle(PublishEntityEvent published, Publisher publisher, CancellationToken cancellation) =>
        publisher.Publish(published, publisher: null, InProcessActor, cancellation);

    /// <summary>A batch, in-process: the same answer as <c>POST /events/batch</c>; a malformed batch throws <see cref="PublishRefusedException"/>.</summary>
    public static Task<PublishBatchResponse> Handle(PublishEntityEvents batch, Publisher publisher, CancellationToken cancellation) =>
        publisher.PublishBatch(batch, publisher: null, InProcessActor, cancellation);
}
