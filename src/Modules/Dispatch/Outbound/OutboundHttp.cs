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
/// At most N calls in flight per target (scheme, host, port). A call that finds its target full is not made to
/// wait on a handler thread: the caller puts the delivery back for a moment, so a slow target holds only its share.
/// </summary>
public sealed class TargetLimiter(int perTarget)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> targets = new(StringComparer.OrdinalIgnoreCase);

    public bool TryEnter(Uri url, out IDisposable? lease)
    {
        var gate = targets.GetOrAdd($"{url.Scheme}://{url.Authority}", _ => new SemaphoreSlim(perTarget, perTarget));
        if (gate.Wait(0))
        {
            lease = new Lease(gate);
            return true;
        }

        lease = null;
        return false;
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
