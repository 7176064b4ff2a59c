using System.Security.Claims;
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
        _ => Results.Problem(new ProblemDetails
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
        }),
    };
}

/// <summary>In-process publishing: the same pipeline and answer as <c>POST /events</c>; invalid input throws <see cref="PublishRefusedException"/>.</summary>
public static class InProcessPublishHandler
{
    public const string InProcessActor = "in-process";

    public static Task<PublishResult> Handle(PublishEntityEvent published, Publisher publisher, CancellationToken cancellation) =>
        publisher.Publish(published, publisher: null, InProcessActor, cancellation);
}
