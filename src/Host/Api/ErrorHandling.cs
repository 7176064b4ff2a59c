using JasperFx;
using JasperFx.Events;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.KeySafe.Crypto;

namespace Webhooks.Host.Api;

/// <summary>
/// Every error is an RFC 9457 problem: unknown routes and methods through status code pages, lost races on an
/// event stream as 409, an unreachable database as 503 with Retry-After, bad requests Kestrel rejects with their own
/// status, anything else as a bare 500 that says nothing of its cause (the log has it).
/// </summary>
public static class ErrorHandling
{
    public static IServiceCollection AddWebhooksProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions.TryAdd("traceId", context.HttpContext.TraceIdentifier);
            if (context.ProblemDetails.Status == StatusCodes.Status404NotFound && context.ProblemDetails.Detail is null)
            {
                context.ProblemDetails.Detail = $"There is nothing at {context.HttpContext.Request.Method} {context.HttpContext.Request.Path}; see /openapi/v1.json for the API.";
            }
            else if (context.ProblemDetails.Status == StatusCodes.Status405MethodNotAllowed && context.ProblemDetails.Detail is null)
            {
                context.ProblemDetails.Detail = $"{context.HttpContext.Request.Method} is not allowed on {context.HttpContext.Request.Path}.";
            }
        });
        services.AddExceptionHandler<KnownExceptions>();
        return services;
    }

    public static WebApplication UseWebhooksProblemDetails(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}

internal sealed partial class KnownExceptions(IProblemDetailsService problems, ILogger<KnownExceptions> logger) : IExceptionHandler
{
    private static bool IsUniqueViolation(Exception exception)
    {
        for (Exception? inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(LogLevel.Error, "Request failed")]
    private static partial void LogServerError(ILogger logger, Exception exception);

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails? problem = exception switch
        {
            ConcurrencyException or ExistingStreamIdCollisionException or Marten.Exceptions.ExistingStreamIdCollisionException => Problems.Conflict(
                "Someone else changed this resource at the same moment. Read it again and retry your change."),
            // Wolverine's aggregate workflow loads a stream by the route's id before the endpoint runs; Marten refuses
            // the empty GUID as a stream id, and nothing has it.
            ArgumentOutOfRangeException { ParamName: "id" } empty when empty.Message.StartsWith("Cannot use an empty Guid as the stream id", StringComparison.Ordinal) =>
                Problems.NotFound($"There is nothing with the id {Guid.Empty}."),
            _ when IsUniqueViolation(exception) => Problems.Conflict(
                "This would duplicate something that must be unique (a name?). Read the current state and choose another value."),
            SecretUnavailableException unavailable => new ProblemDetails
            {
                Type = "urn:webhooks:keysafe-unavailable",
                Title = "KeySafe cannot decrypt a secret",
                Status = StatusCodes.Status500InternalServerError,
                Detail = unavailable.Message,
            },
            _ when DatabaseOutage.Is(exception) => new ProblemDetails
            {
                Type = "urn:webhooks:unavailable",
                Title = "Database unavailable",
                Status = StatusCodes.Status503ServiceUnavailable,
                Detail = "The database cannot be reached at the moment, so this request was not completed. Retry shortly; " +
                    "send events again with the same Idempotency-Key so that none is published twice.",
            },
            BadHttpRequestException bad => new ProblemDetails
            {
                Type = Problems.ValidationType,
                Title = "Bad request",
                Status = bad.StatusCode,
                Detail = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? "The request body is larger than this endpoint accepts."
                    : bad.Message,
            },
            _ => null,
        };
        if (problem is null)
        {
            return false;
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "1";
        }

        if (problem.Status >= StatusCodes.Status500InternalServerError)
        {
            LogServerError(logger, exception);
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }
}
