using System.Collections.Concurrent;
using System.Net;
using System.Reflection;

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
/// At most N calls in flight per target (scheme, host, port). A call that finds its target full waits a moment (a
/// fast target frees a place within it); if the target is still full, the caller puts the delivery back for later
/// instead of holding a handler, so a slow target holds only its share of the handlers.
/// </summary>
public sealed class TargetLimiter(int perTarget)
{
    public static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> targets = new(StringComparer.OrdinalIgnoreCase);

    public async Task<IDisposable?> TryEnter(Uri url, CancellationToken cancellation)
    {
        var gate = targets.GetOrAdd($"{url.Scheme}://{url.Authority}", _ => new SemaphoreSlim(perTarget, perTarget));
        return await gate.WaitAsync(Patience, cancellation) ? new Lease(gate) : null;
    }

    private sealed class Lease(SemaphoreSlim gate) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
