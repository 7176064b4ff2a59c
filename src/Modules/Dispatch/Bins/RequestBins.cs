using System.Text;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Dispatch.Contracts;
using Wolverine.Http;

namespace Webhooks.Dispatch.Bins;

/// <summary>Limits that keep bins from filling the disk (<c>Webhooks:Bins</c>).</summary>
public sealed class BinOptions
{
    public int MaxBins { get; set; } = 50;
    public int MaxRequestsPerBin { get; set; } = 100;
    public int MaxBodyBytes { get; set; } = 64 * 1024;
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromDays(2);
}

public sealed class RequestBin
{
    public Guid Id { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

public sealed class CapturedRequest
{
    public Guid Id { get; set; }
    public Guid BinId { get; set; }
    public string Method { get; set; } = "";
    public Dictionary<string, string> Headers { get; set; } = [];
    public string Body { get; set; } = "";
    public bool Truncated { get; set; }
    public DateTimeOffset At { get; set; }

    public CapturedRequestView ToView() => new(Method, Headers, Body, Truncated, At);
}

public static class CreateBinEndpoint
{
    /// <summary>Creates a request bin. Bins expire (2 days by default) and are limited in number, requests and size.</summary>
    [WolverinePost("/bins", OperationId = "CreateBin")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Request bins")]
    [ProducesResponseType<BinView>(StatusCodes.Status201Created)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public static async Task<IResult> Post(IDocumentSession session, BinOptions options, TimeProvider time, HttpRequest request, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        session.DeleteWhere<RequestBin>(b => b.ExpiresAt < now);
        var oldest = now - options.Lifetime;
        session.DeleteWhere<CapturedRequest>(r => r.At < oldest);
        if (await session.Query<RequestBin>().CountAsync(b => b.ExpiresAt >= now, cancellation) >= options.MaxBins)
        {
            return Results.Problem(Problems.Conflict($"There are {options.MaxBins} bins already (Webhooks:Bins:MaxBins); use one of them or wait until they expire."));
        }

        var bin = new RequestBin { Id = Guid.CreateVersion7(), CreatedAt = now, ExpiresAt = now + options.Lifetime };
        session.Insert(bin);
        var view = new BinView(bin.Id, new Uri($"{request.Scheme}://{request.Host}/bins/{bin.Id}/capture"), bin.ExpiresAt);
        return Results.Created($"/bins/{bin.Id}", view);
    }
}

public static class BinRequestsEndpoint
{
    public static ProblemDetails Validate(int? limit) => new FieldErrors()
        .Check(limit is null or >= 1 and <= 100, "limit", "The limit must be between 1 and 100.")
        .ToProblem();

    /// <summary>What the bin captured, newest first.</summary>
    [WolverineGet("/bins/{id}/requests", OperationId = "ListBinRequests")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Request bins")]
    [ProducesResponseType<Page<CapturedRequestView>>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Get(Guid id, int? limit, IQuerySession session, TimeProvider time, CancellationToken cancellation)
    {
        if (await session.LoadAsync<RequestBin>(id, cancellation) is not { } bin || bin.ExpiresAt < time.GetUtcNow())
        {
            return Results.Problem(Problems.NotFound($"There is no request bin {id} (bins expire)."));
        }

        var requests = await session.Query<CapturedRequest>().Where(r => r.BinId == id)
            .OrderByDescending(r => r.At).Take(limit ?? 100).ToListAsync(cancellation);
        return Results.Ok(new Page<CapturedRequestView>(requests.Select(r => r.ToView()).ToList(), null));
    }
}

public static class BinCapture
{
    /// <summary>The capture side: any method, no key (API.md). Stores the request (body cut at the limit) and answers 200.</summary>
    public static IEndpointRouteBuilder MapBinCapture(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/bins/{id:guid}/capture", Capture).AllowAnonymous().WithTags("Request bins").WithName("CaptureIntoBin");
        return endpoints;
    }

    private static async Task<IResult> Capture(Guid id, HttpContext context)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<BinOptions>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        await using var session = services.GetRequiredService<IDocumentStore>().LightweightSession();
        if (await session.LoadAsync<RequestBin>(id, context.RequestAborted) is not { } bin || bin.ExpiresAt < now)
        {
            return Results.Problem(Problems.NotFound($"There is no request bin {id} (bins expire)."));
        }

        var buffer = new byte[options.MaxBodyBytes + 1];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await context.Request.Body.ReadAsync(buffer.AsMemory(read), context.RequestAborted)) > 0)
        {
            read += n;
        }

        var truncated = read > options.MaxBodyBytes;
        session.Insert(new CapturedRequest
        {
            Id = Guid.CreateVersion7(),
            BinId = id,
            Method = context.Request.Method,
            Headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            Body = Encoding.UTF8.GetString(buffer, 0, Math.Min(read, options.MaxBodyBytes)),
            Truncated = truncated,
            At = now,
        });

        // Oldest first out once the bin is full.
        var stored = await session.Query<CapturedRequest>().Where(r => r.BinId == id).OrderByDescending(r => r.At)
            .Select(r => r.Id).ToListAsync(context.RequestAborted);
        foreach (var old in stored.Skip(options.MaxRequestsPerBin - 1))
        {
            session.Delete<CapturedRequest>(old);
        }

        await session.SaveChangesAsync(context.RequestAborted);
        return Results.Ok();
    }
}
