using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Threading.RateLimiting;

namespace Webhooks.Dispatch.Outbound;

/// <summary>
/// The one HttpClient for calls to targets: pooled connections (refreshed every few minutes so DNS changes are
/// seen), no redirects, no cookies, the SSRF guard at connect time, and a per-call timeout set by the caller.
/// Environment proxies (HTTP_PROXY and the like) are ignored: through a proxy the guard would see only the proxy's
/// address. With <c>Webhooks:Dispatch:Proxy</c> configured, calls go through that proxy, and the guard judges every
/// address the target's host resolves to before the request leaves.
/// </summary>
public sealed class OutboundHttp : IDisposable
{
    public static readonly string UserAgent =
        $"Webhooks/{typeof(OutboundHttp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "1.0"}";

    public OutboundHttp(SsrfGuard guard, DispatchOptions options, HostResolver resolver)
    {
        var proxy = options.Proxy is { Length: > 0 } configured ? new Uri(configured) : null;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = 256,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            UseProxy = proxy is not null,
            Proxy = proxy is null ? null : new WebProxy(proxy) { BypassProxyOnLocal = false },
            ConnectCallback = (context, cancellation) =>
                // The configured proxy is the operator's choice (often on a private address); every other connection is judged.
                proxy is not null && context.DnsEndPoint.Host.Equals(proxy.Host, StringComparison.OrdinalIgnoreCase) && context.DnsEndPoint.Port == proxy.Port
                    ? ConnectToProxy(context.DnsEndPoint, resolver, cancellation)
                    : guard.Connect(context.DnsEndPoint, resolver.Resolve, SsrfGuard.ConnectSocket, cancellation),
        };
        Client = new HttpClient(proxy is null ? handler : new ProxiedTargetCheck(guard, resolver) { InnerHandler = handler })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        Client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
    }

    public HttpClient Client { get; }

    public void Dispose() => Client.Dispose();

    private static async ValueTask<Stream> ConnectToProxy(DnsEndPoint proxy, HostResolver resolver, CancellationToken cancellation)
    {
        var addresses = IPAddress.TryParse(proxy.Host.Trim('[', ']'), out var literal) ? [literal] : await resolver.Resolve(proxy.Host, cancellation);
        return await SsrfGuard.ConnectSocket(addresses, proxy.Port, cancellation);
    }

    /// <summary>Through a proxy the connect seam sees the proxy only: the target is judged here, before sending.</summary>
    private sealed class ProxiedTargetCheck(SsrfGuard guard, HostResolver resolver) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var host = request.RequestUri!.IdnHost;
            try
            {
                await guard.CheckTarget(host, resolver.Resolve, cancellationToken);
            }
            catch (System.Net.Sockets.SocketException failed)
            {
                // What the handler would say had it resolved the name itself: a failed call, not a crash.
                throw new HttpRequestException(HttpRequestError.NameResolutionError, $"{host} could not be resolved ({failed.SocketErrorCode}).", failed);
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>
/// At most N calls in flight per target (scheme, host, port): a concurrency limiter per target, in .NET's
/// <see cref="PartitionedRateLimiter"/> (idle targets' limiters are dropped, so many targets do not grow it for good).
/// A call that finds its target full waits a moment in its queue (a fast target frees a place within it); if the
/// target is still full, the caller puts the delivery back for later instead of holding a handler, so a slow target
/// holds only its share of the handlers.
/// </summary>
public sealed class TargetLimiter(int perTarget) : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(100);

    private readonly PartitionedRateLimiter<string> limiter = PartitionedRateLimiter.Create<string, string>(
        target => RateLimitPartition.GetConcurrencyLimiter(target, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = perTarget,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>A place among the target's calls (dispose it when the call is over), or null when none came in time.</summary>
    public async Task<IDisposable?> TryEnter(Uri url, CancellationToken cancellation)
    {
        var target = $"{url.Scheme}://{url.Authority}";
        var lease = limiter.AttemptAcquire(target);
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        patience.CancelAfter(Patience);
        try
        {
            lease = await limiter.AcquireAsync(target, 1, patience.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return null;
        }

        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        return null;
    }

    public void Dispose() => limiter.Dispose();
}
