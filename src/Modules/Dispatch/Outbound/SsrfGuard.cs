using System.Net;
using System.Net.Sockets;

namespace Webhooks.Dispatch.Outbound;

/// <summary>An outbound connection the SSRF guard refused, before any socket was opened.</summary>
public sealed class SsrfRefusedException(string message) : HttpRequestException(message);

/// <summary>
/// Decides where outbound calls may connect, on the addresses the host name resolves to at connect time (so DNS
/// rebinding cannot slip a private address in after a check): never loopback, private, carrier-grade NAT,
/// link-local, multicast, broadcast or unspecified addresses, unless inside <c>Webhooks:Dispatch:AllowedNetworks</c>.
/// </summary>
public sealed class SsrfGuard(IReadOnlyList<IPNetwork> allowed)
{
    private static readonly IPNetwork[] Forbidden =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("64:ff9b::/96"),
    ];

    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return allowed.Any(n => n.Contains(address)) || !Forbidden.Any(n => n.Contains(address));
    }

    /// <summary>
    /// The connect seam for <see cref="SocketsHttpHandler.ConnectCallback"/>: resolve, keep only allowed addresses,
    /// and only then connect (through <paramref name="connect"/>). Refuses before any socket exists when none is allowed.
    /// </summary>
    public async ValueTask<Stream> Connect(
        DnsEndPoint endpoint,
        Func<string, CancellationToken, Task<IPAddress[]>> resolve,
        Func<IPAddress[], int, CancellationToken, ValueTask<Stream>> connect,
        CancellationToken cancellation)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await resolve(endpoint.Host, cancellation);
        var permitted = addresses.Where(IsAllowed).ToArray();
        if (permitted.Length == 0)
        {
            throw new SsrfRefusedException(
                $"Refused to connect to {endpoint.Host}: it resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}, " +
                "a private, loopback or otherwise internal address. Allow it with Webhooks:Dispatch:AllowedNetworks if it is meant.");
        }

        return await connect(permitted, endpoint.Port, cancellation);
    }

    public static async ValueTask<Stream> ConnectSocket(IPAddress[] addresses, int port, CancellationToken cancellation)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, port, cancellation);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
