using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Wolverine.Http;

namespace Webhooks.Definitions.Catalog;

public static class ListApplicationsEndpoint
{
    public static ProblemDetails Validate(string? after, int? limit) => Paging.Validate(after, limit);

    /// <summary>Applications with event sources, by name. Publishers limited to named applications see only those.</summary>
    [WolverineGet("/applications", OperationId = "ListApplications")]
    [Authorize(Roles = $"{Roles.Admin},{Roles.Auditor},{Roles.Publisher}")]
    [Tags("Event sources")]
    public static async Task<Page<ApplicationView>> Get(
        string? after, int? limit, IQuerySession session, ClaimsPrincipal user, CancellationToken cancellation)
    {
        Cursor.TryDecode(after, out var afterName);
        var take = limit ?? Cursor.DefaultLimit;
        var visible = user.VisibleApplications();

        var rows = visible is null
            ? await session.QueryAsync<CatalogApplication>(
                "where id > ? order by id limit ?", cancellation, afterName ?? "", take + 1)
            : await session.QueryAsync<CatalogApplication>(
                "where id > ? and id = ANY(?) order by id limit ?", cancellation, afterName ?? "", visible.ToArray(), take + 1);

        return Paging.Page(rows, take, a => a.ToView(), a => a.Id);
    }
}

public static class ListEventSourcesEndpoint
{
    public static ProblemDetails Validate(string? after, int? limit) => Paging.Validate(after, limit);

    /// <summary>An application's event sources, by name.</summary>
    [WolverineGet("/applications/{application}/event-sources", OperationId = "ListEventSources")]
    [Authorize(Roles = $"{Roles.Admin},{Roles.Auditor},{Roles.Publisher}")]
    [Tags("Event sources")]
    [ProducesResponseType<Webhooks.Contracts.Page<EventSourceView>>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(
        string application, string? after, int? limit, IQuerySession session, ClaimsPrincipal user,
        CancellationToken cancellation)
    {
        var visible = user.VisibleApplications();
        if (visible is not null && !visible.Contains(application))
        {
            return Results.Problem(Problems.Forbidden($"This API key may not see the application '{application}'."));
        }

        if (await session.LoadAsync<CatalogApplication>(application, cancellation) is null)
        {
            return Results.Problem(Problems.NotFound($"No application named '{application}' has event sources."));
        }

        Cursor.TryDecode(after, out var afterName);
        var take = limit ?? Cursor.DefaultLimit;
        var rows = await session.QueryAsync<EventSource>(
            "where data ->> 'application' = ? and data ->> 'name' > ? order by data ->> 'name' limit ?",
            cancellation,
            application, afterName ?? "", take + 1);

        return Results.Ok(Paging.Page(rows, take, s => s.ToView(), s => s.Name));
    }
}
