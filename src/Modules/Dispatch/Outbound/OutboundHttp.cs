using System.Collections.Concurrent;
using System.Net;
using System.Reflection;

namespace Webhooks.Dispatch.Outbound;

/// <summary>
/// The one HttpClient for calls to targets: pooled connections (refreshed every few minutes so DNS changes are
/// seen), no redirects, no cookies, the SSRF guard at connect time, and a per-call timeout set by the caller.
/// </summary>
public sealed class OutboundHttp : IDisposable
{
    public static readonly string UserAgent =
        $"Webhooks/{typeof(OutboundHttp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "1.0"}";

    public OutboundHttp(SsrfGuard guard)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = 256,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ConnectCallback = (context, cancellation) =>
                guard.Connect(context.DnsEndPoint, Dns.GetHostAddressesAsync, SsrfGuard.ConnectSocket, cancellation),
        };
        Client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        Client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
    }

    public HttpClient Client { get; }

    public void Dispose() => Client.Dispose();
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
