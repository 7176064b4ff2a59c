using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Dispatch.Batching;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Routing;
using Wolverine.Http;

namespace Webhooks.Dispatch.History;

public static class RecoverEndpoint
{
    public static ProblemDetails Validate(RecoverWindow request) => new FieldErrors()
        .Check(request.Since is not null, "since", "Say since when failed deliveries are redelivered, e.g. \"2026-11-29T00:00:00Z\".")
        .ToProblem();

    /// <summary>Redelivers every failed delivery of the webhook created since then, each with its own webhook-id.</summary>
    [WolverinePost("/webhooks/{name}/recover", OperationId = "RecoverWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Deliveries")]
    [ProducesResponseType<RecoverResult>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Post(
        string name, RecoverWindow request, IQuerySession session, DispatchCatalog catalog, Redeliveries redeliveries,
        ClaimsPrincipal user, CancellationToken cancellation)
    {
        if (catalog.FindByName(name) is not { } route)
        {
            return Results.Problem(Problems.NotFound($"There is no webhook named '{name}'."));
        }

        var failed = await session.QueryAsync<DeliveryLog>(
            // (Deliveries whose payload retention removed have nothing left to send: left out.)
            "where data ->> 'webhookId' = ? and data ->> 'status' = ? and (data ->> 'createdAt')::timestamptz >= ? and data ->> 'payloadRemovedAt' is null order by id",
            cancellation, route.Definition.Id.ToString(), DeliveryStatuses.Failed, request.Since!.Value);
        var count = 0;
        foreach (var chunk in failed.Chunk(GroupCommit.MaxBatch))
        {
            count += await redeliveries.Redeliver(chunk, user.Actor(), session, cancellation);
        }

        return Results.Json(new RecoverResult(count, failed.Select(d => d.Id).ToList()), statusCode: StatusCodes.Status202Accepted);
    }
}
