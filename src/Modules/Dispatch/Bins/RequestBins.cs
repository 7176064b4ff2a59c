using System.Text;
using System.Threading.RateLimiting;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Dispatch.Contracts;
using Wolverine.Http;

namespace Webhooks.Dispatch.Bins;

/// <summary>Limits that keep bins from filling the disk (<c>Webhooks:Bins</c>).</summary>
/// <summary><c>Webhooks:Bins</c> settings.</summary>
public sealed class BinOptions
{
    public const string Section = "Webhooks:Bins";

    public int MaxBins { get; set; } = 50;
    public int MaxRequestsPerBin { get; set; } = 100;
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>The most header text (names and values) kept of one captured request; the rest is dropped, and says so.</summary>
    public int MaxHeaderBytes { get; set; } = 16 * 1024;

    /// <summary>Captures a bin takes per second (with twice as many at once); more are answered 429 with Retry-After.</summary>
    public int CapturesPerSecond { get; set; } = 20;

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
    public bool HeadersTruncated { get; set; }
    public string Body { get; set; } = "";

    /// <summary><c>utf-8</c>, or <c>base64</c> when the body was not text PostgreSQL can store (invalid UTF-8, NUL).</summary>
    public string BodyEncoding { get; set; } = BodyEncodings.Utf8;

    public bool Truncated { get; set; }
    public DateTimeOffset At { get; set; }

    public CapturedRequestView ToView() => new(Method, Headers, Body, Truncated, At, BodyEncoding, HeadersTruncated);
}

public static class CreateBinEndpoint
{
    /// <summary>Creates a request bin. Bins expire (2 days by default) and are limited in number, requests and size.</summary>
    [WolverinePost("/bins", OperationId = "CreateBin")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Request bins")]
    [ProducesResponseType<BinView>(StatusCodes.Status201Created)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public static async Task<IResult> Post(IDocumentSession session, BinOptions options, TimeProvider time, PublicAddress address, CancellationToken cancellation)
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
        return Results.Created($"/bins/{bin.Id}", View(bin, address));
    }

    // Never from the request's Host header: a client could make the host hand out a URL of its choosing.
    public static BinView View(RequestBin bin, PublicAddress address) => new(bin.Id, new Uri(address.BaseUrl, $"bins/{bin.Id}/capture"), bin.ExpiresAt);
}

public static class ListBinsEndpoint
{
    /// <summary>The bins that have not expired, newest first (there are at most <c>Webhooks:Bins:MaxBins</c>).</summary>
    [WolverineGet("/bins", OperationId = "ListBins")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Request bins")]
    public static async Task<Page<BinView>> Get(IQuerySession session, PublicAddress address, TimeProvider time, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var bins = await session.Query<RequestBin>().Where(b => b.ExpiresAt >= now).OrderByDescending(b => b.CreatedAt).ToListAsync(cancellation);
        return new Page<BinView>(bins.Select(b => CreateBinEndpoint.View(b, address)).ToList(), null);
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

public static class DeleteBinEndpoint
{
    /// <summary>Deletes a bin and everything it captured.</summary>
    [WolverineDelete("/bins/{id}", OperationId = "DeleteBin")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Request bins")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Delete(Guid id, IDocumentSession session, CancellationToken cancellation)
    {
        if (await session.LoadAsync<RequestBin>(id, cancellation) is null)
        {
            return Results.Problem(Problems.NotFound($"There is no request bin {id}."));
        }

        session.Delete<RequestBin>(id);
        session.DeleteWhere<CapturedRequest>(r => r.BinId == id);
        return Results.NoContent();
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
        using var lease = services.GetRequiredService<CaptureLimiter>().AttemptAcquire(id);
        if (!lease.IsAcquired)
        {
            context.Response.Headers.RetryAfter = "1";
            return Results.Problem(new ProblemDetails
            {
                Type = "urn:webhooks:too-many-requests",
                Title = "Too many requests",
                Status = StatusCodes.Status429TooManyRequests,
                Detail = $"This bin takes {options.CapturesPerSecond} requests a second (Webhooks:Bins:CapturesPerSecond); send again shortly.",
            });
        }

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

        var (headers, headersTruncated) = CapturedHeaders.From(context.Request.Headers, options.MaxHeaderBytes);
        var (body, encoding) = CapturedBody.From(buffer.AsSpan(0, Math.Min(read, options.MaxBodyBytes)));
        session.Insert(new CapturedRequest
        {
            Id = Guid.CreateVersion7(),
            BinId = id,
            Method = context.Request.Method,
            Headers = headers,
            HeadersTruncated = headersTruncated,
            Body = body,
            BodyEncoding = encoding,
            Truncated = read > options.MaxBodyBytes,
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

/// <summary>
/// The headers a bin keeps: credentials redacted (a webhook's KeySafe password must not come back out through a bin,
/// nor an API key someone presents to it), and no more than the configured amount of text.
/// </summary>
public static class CapturedHeaders
{
    public const string Redacted = "[redacted]";

    private static readonly HashSet<string> Secret = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "webhook-signature",
        "X-Api-Key", "Api-Key", "X-Auth-Token", "X-Access-Token", "X-Amz-Security-Token",
    };

    /// <summary>True for headers whose value is a credential (by name, or any name that says key, token, secret or password).</summary>
    public static bool IsSecret(string name) =>
        Secret.Contains(name)
        || name.Contains("key", StringComparison.OrdinalIgnoreCase) || name.Contains("token", StringComparison.OrdinalIgnoreCase)
        || name.Contains("secret", StringComparison.OrdinalIgnoreCase) || name.Contains("password", StringComparison.OrdinalIgnoreCase);

    public static (Dictionary<string, string> Headers, bool Truncated) From(IHeaderDictionary headers, int maxBytes)
    {
        var kept = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var used = 0;
        foreach (var (name, values) in headers)
        {
            var value = IsSecret(name) ? RedactedValue(name, values.ToString()) : StoredText.Clean(values.ToString());
            var size = Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value);
            if (used + size > maxBytes)
            {
                return (kept, true);
            }

            used += size;
            kept[StoredText.Clean(name)] = value;
        }

        return (kept, false);
    }

    /// <summary>Keeps the scheme of an Authorization header (Basic, Bearer), never its credentials.</summary>
    private static string RedactedValue(string name, string value) =>
        name.EndsWith("Authorization", StringComparison.OrdinalIgnoreCase) && value.IndexOf(' ') is > 0 and var space
            ? $"{StoredText.Clean(value[..space])} {Redacted}"
            : Redacted;
}

public static class BodyEncodings
{
    public const string Utf8 = "utf-8";
    public const string Base64 = "base64";
}

/// <summary>A captured body as text when it is text PostgreSQL can store, else as base64: every byte kept as it came.</summary>
public static class CapturedBody
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static (string Body, string Encoding) From(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var text = Strict.GetString(bytes);
            if (StoredText.IsStorable(text))
            {
                return (text, BodyEncodings.Utf8);
            }
        }
        catch (DecoderFallbackException)
        {
        }

        return (Convert.ToBase64String(bytes), BodyEncodings.Base64);
    }
}

/// <summary>Captures per bin per second (<see cref="BinOptions.CapturesPerSecond"/>), so one noisy sender cannot fill the database.</summary>
public sealed class CaptureLimiter(BinOptions options) : IDisposable
{
    private readonly PartitionedRateLimiter<Guid> limiter = PartitionedRateLimiter.Create<Guid, Guid>(bin =>
        RateLimitPartition.GetTokenBucketLimiter(bin, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, options.CapturesPerSecond * 2),
            TokensPerPeriod = Math.Max(1, options.CapturesPerSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public RateLimitLease AttemptAcquire(Guid bin) => limiter.AttemptAcquire(bin);

    public void Dispose() => limiter.Dispose();
}

/// <summary>
/// The base URL this host hands out in links (bin capture URLs): <c>Webhooks:PublicBaseUrl</c> when configured, else
/// the first address it listens on. Never the request's Host header, which the client chooses.
/// </summary>
public sealed class PublicAddress(IConfiguration configuration, IServer server)
{
    private Uri? listening;

    public Uri BaseUrl => Configured ?? (listening ??= Listening());

    private Uri? Configured => configuration["Webhooks:PublicBaseUrl"] is { Length: > 0 } configured
        ? new Uri(configured.EndsWith('/') ? configured : configured + "/")
        : null;

    private Uri Listening()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses
            .OrderBy(a => a.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 1 : 0)
            .FirstOrDefault() ?? "http://localhost";
        // Wildcard bindings (http://+:80, http://[::]:80, http://0.0.0.0:80) name no host a client can use.
        var uri = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
        {
            uri.Host = "localhost";
        }

        uri.Path = "/";
        return uri.Uri;
    }
}
