using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Reflection;
using System.Threading.RateLimiting;

namespace Webhooks.Dispatch.Outbound;

/// <summary>
/// The one HttpClient for calls to targets: pooled connections (refreshed every few minutes so DNS changes are
/// seen), no redirects, no cookies, the SSRF guard at connect time, and a per-call timeout set by the caller.
/// Environment proxies (HTTP_PROXY and the like) are ignored: through a proxy the guard would see only the proxy's
/// address. With <c>Webhooks:Dispatch:Proxy</c> configured, calls go through that proxy, and the guard judges every
/// address the target's host resolves to before the request leaves. With <c>Webhooks:Dispatch:TrustedCertificateAuthorities</c>,
/// targets' certificates may also chain to those authorities.
/// </summary>
public sealed class OutboundHttp : IDisposable
{
    public static readonly string UserAgent =
        $"Webhooks/{typeof(OutboundHttp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "1.0"}";

    private readonly SsrfGuard guard;
    private readonly HostResolver resolver;
    private readonly Uri? proxy;
    private readonly X509Certificate2Collection? authorities;
    private readonly ConcurrentDictionary<Guid, (string Thumbprint, HttpClient Client)> certificateClients = new();

    private readonly TimeSpan longestCall;

    private readonly bool sendTraceContext;

    public OutboundHttp(SsrfGuard guard, DispatchOptions options, HostResolver resolver)
    {
        this.guard = guard;
        sendTraceContext = options.SendTraceContext;
        longestCall = options.AsyncTimeout > options.SyncTimeout ? options.AsyncTimeout : options.SyncTimeout;
        this.resolver = resolver;
        proxy = options.Proxy is { Length: > 0 } configured ? new Uri(configured) : null;
        if (options.TrustedCertificateAuthorities is { Length: > 0 } path)
        {
            authorities = [];
            authorities.ImportFromPemFile(path);
        }

        Client = Create(clientCertificate: null);
    }

    /// <summary>The client for calls without a client certificate.</summary>
    public HttpClient Client { get; }

    /// <summary>
    /// The client for calls with a KeySafe mtls key's certificate: one per key (a pooled connection is bound to the
    /// certificate it was opened with), replaced when the key's certificate changes. Without a certificate: <see cref="Client"/>.
    /// </summary>
    public HttpClient For(Guid keyId, X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return Client;
        }

        var thumbprint = certificate.Thumbprint;
        if (certificateClients.TryGetValue(keyId, out var known) && known.Thumbprint == thumbprint)
        {
            return known.Client;
        }

        lock (certificateClients)
        {
            if (certificateClients.TryGetValue(keyId, out known) && known.Thumbprint == thumbprint)
            {
                return known.Client;
            }

            var created = Create(certificate);
            certificateClients[keyId] = (thumbprint, created);
            if (known.Client is not null)
            {
                Retire(known.Client);
            }

            return created;
        }
    }

    /// <summary>A key changed or was removed: its client goes (once the calls in flight on it are over).</summary>
    public void Forget(Guid keyId)
    {
        lock (certificateClients)
        {
            if (certificateClients.TryRemove(keyId, out var known))
            {
                Retire(known.Client);
            }
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        foreach (var (_, (_, client)) in certificateClients)
        {
            client.Dispose();
        }
    }

    /// <summary>Calls may still be in flight on a replaced client: it is disposed after the longest a call may take, and a minute.</summary>
    private void Retire(HttpClient client) =>
        _ = Task.Delay(longestCall + TimeSpan.FromMinutes(1)).ContinueWith(_ => client.Dispose(), TaskScheduler.Default);

    private HttpClient Create(X509Certificate2? clientCertificate)
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
            // The attempt's W3C trace context (traceparent) goes to the target, so that its trace joins the publisher's;
            // Webhooks:Dispatch:SendTraceContext=false sends none.
            ActivityHeadersPropagator = sendTraceContext ? DistributedContextPropagator.Current : DistributedContextPropagator.CreateNoOutputPropagator(),
            UseProxy = proxy is not null,
            Proxy = proxy is null ? null : new WebProxy(proxy) { BypassProxyOnLocal = false },
            ConnectCallback = (context, cancellation) =>
                // The configured proxy is the operator's choice (often on a private address); every other connection is judged.
                proxy is not null && context.DnsEndPoint.Host.Equals(proxy.Host, StringComparison.OrdinalIgnoreCase) && context.DnsEndPoint.Port == proxy.Port
                    ? ConnectToProxy(context.DnsEndPoint, resolver, cancellation)
                    : guard.Connect(context.DnsEndPoint, resolver.Resolve, SsrfGuard.ConnectSocket, cancellation),
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        if (authorities is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, presentedChain, errors) => Trusted(certificate, presentedChain, errors);
        }

        var client = new HttpClient(proxy is null ? handler : new ProxiedTargetCheck(guard, resolver) { InnerHandler = handler })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        return client;
    }

    /// <summary>
    /// The system's verdict, or, when only the chain failed, the chain built again on the configured authorities
    /// (the host name must match either way).
    /// </summary>
    private bool Trusted(X509Certificate? presented, X509Chain? presentedChain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || presented is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1")); // server authentication
        if (presentedChain is not null)
        {
            foreach (var element in presentedChain.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate); // the intermediates the target sent
            }
        }

        if (presented is X509Certificate2 certificate)
        {
            return chain.Build(certificate);
        }

        using var copy = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        return chain.Build(copy);
    }

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

    // The partition key carries its own limit: "<limit>|<origin>" for the target's shared share, "<limit>|<origin>|<webhook>"
    // for a webhook with a maxConcurrency of its own.
    private readonly PartitionedRateLimiter<string> limiter = PartitionedRateLimiter.Create<string, string>(
        key => RateLimitPartition.GetConcurrencyLimiter(key, partition => new ConcurrencyLimiterOptions
        {
            PermitLimit = int.Parse(partition.AsSpan(0, partition.IndexOf('|', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A place among the target's calls (dispose it when the call is over), or null when none came in time. A webhook
    /// with <paramref name="maxConcurrency"/> has its own share of the target, of that many calls; the others share the
    /// target's (<c>MaxConcurrencyPerTarget</c>).
    /// </summary>
    public async Task<IDisposable?> TryEnter(Uri url, CancellationToken cancellation, int? maxConcurrency = null, Guid? webhookId = null)
    {
        var origin = $"{url.Scheme}://{url.Authority}";
        var target = maxConcurrency is { } own && webhookId is { } id
            ? $"{own}|{origin}|{id}"
            : $"{perTarget}|{origin}";
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
