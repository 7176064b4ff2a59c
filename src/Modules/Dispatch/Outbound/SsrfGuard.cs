using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Webhooks.Dispatch.Outbound;

/// <summary>An outbound connection the SSRF guard refused, before any socket was opened.</summary>
public sealed class SsrfRefusedException(string message) : HttpRequestException(message)
{
    /// <summary>The refusal behind <paramref name="failure"/> (HttpClient wraps what its connect callback throws), if any.</summary>
    public static SsrfRefusedException? In(Exception failure)
    {
        for (Exception? inner = failure; inner is not null; inner = inner.InnerException)
        {
            if (inner is SsrfRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }
}

/// <summary>How outbound calls resolve host names: the system's DNS, or a fake in tests (no test may look up an outside name).</summary>
public sealed class HostResolver(Func<string, CancellationToken, Task<IPAddress[]>> resolve)
{
    public static HostResolver System { get; } = new(Dns.GetHostAddressesAsync);

    public Task<IPAddress[]> Resolve(string host, CancellationToken cancellation) => resolve(host, cancellation);
}

/// <summary>
/// Decides where outbound calls may connect, on the addresses the host name resolves to at connect time (so DNS
/// rebinding cannot slip a private address in after a check). Refused: every special-purpose range IANA lists
/// (loopback, private, carrier-grade NAT, link-local, site-local, unique-local, multicast, broadcast, unspecified,
/// benchmarking, documentation, discard, Teredo, local-use NAT64), an IPv4 address carried inside IPv6 (mapped,
/// compatible, translated, NAT64, 6to4) judged as the IPv4 address it carries, and this host's own interface
/// addresses; unless inside <c>Webhooks:Dispatch:AllowedNetworks</c>.
/// </summary>
public sealed class SsrfGuard(IReadOnlyList<IPNetwork> allowed, Func<IReadOnlyCollection<IPAddress>>? ownAddresses = null)
{
    private static readonly (IPNetwork Network, string What)[] Forbidden =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified (\"this network\") address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a carrier-grade NAT address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.0.0.0/24"), "an IETF protocol address"),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation address"),
        (IPNetwork.Parse("192.88.99.0/24"), "a 6to4 relay address"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address"),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation address"),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation address"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved or broadcast address"),
        (IPNetwork.Parse("::/128"), "the unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "a local-use NAT64 address"),
        (IPNetwork.Parse("100::/64"), "a discard-only address"),
        (IPNetwork.Parse("2001::/32"), "a Teredo address"),
        (IPNetwork.Parse("2001:db8::/32"), "a documentation address"),
        (IPNetwork.Parse("3fff::/20"), "a documentation address"),
        (IPNetwork.Parse("fc00::/7"), "a unique-local (private) address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("fec0::/10"), "a site-local address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
    ];

    private static readonly IPNetwork Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork Translated = IPNetwork.Parse("::ffff:0:0:0/96");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    private readonly Func<IReadOnlyCollection<IPAddress>> own = ownAddresses ?? InterfaceAddresses.Current;

    public bool IsAllowed(IPAddress address) => Refusal(address) is null;

    /// <summary>Why the guard refuses <paramref name="address"/> (e.g. "a private address"), or null when it may be reached.</summary>
    public string? Refusal(IPAddress address)
    {
        var carried = CarriedIPv4(address);
        if (allowed.Any(n => n.Contains(address) || (carried is not null && n.Contains(carried))))
        {
            return null;
        }

        if (carried is not null)
        {
            return Refusal(carried) is { } inner ? $"{inner} (carried in {address})" : null;
        }

        foreach (var (network, what) in Forbidden)
        {
            if (network.Contains(address))
            {
                return what;
            }
        }

        return own().Contains(address) ? "an address of this host's own network interfaces" : null;
    }

    /// <summary>The IPv4 address an IPv6 address carries (mapped, compatible, translated, NAT64, 6to4), if any.</summary>
    public static IPAddress? CarriedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        if (SixToFour.Contains(address))
        {
            return new IPAddress(bytes.AsSpan(2, 4));
        }

        // ::/96 holds :: and ::1 themselves, which are no IPv4 addresses.
        var compatible = Compatible.Contains(address) && !address.Equals(IPAddress.IPv6None) && !address.Equals(IPAddress.IPv6Loopback);
        return compatible || Translated.Contains(address) || Nat64.Contains(address) ? new IPAddress(bytes.AsSpan(12, 4)) : null;
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
        var addresses = await Addresses(endpoint.Host, resolve, cancellation);
        var permitted = addresses.Where(IsAllowed).ToArray();
        if (permitted.Length == 0)
        {
            throw Refused(endpoint.Host, addresses);
        }

        return await connect(permitted, endpoint.Port, cancellation);
    }

    /// <summary>
    /// For calls sent through a proxy, which resolves and connects itself: every address the target's host resolves
    /// to must be allowed, judged before the request leaves.
    /// </summary>
    public async Task CheckTarget(string host, Func<string, CancellationToken, Task<IPAddress[]>> resolve, CancellationToken cancellation)
    {
        var addresses = await Addresses(host, resolve, cancellation);
        if (addresses.Length == 0 || !addresses.All(IsAllowed))
        {
            throw Refused(host, addresses);
        }
    }

    /// <summary>What can be known without DNS: the refusal a literal address or <c>localhost</c> would meet, else null.</summary>
    public string? RefusalWithoutLookup(string host)
    {
        var literal = IPAddress.TryParse(host.Trim('[', ']'), out var address) ? address
            : host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
                ? IPAddress.Loopback
                : null;
        return literal is not null && Refusal(literal) is { } why
            ? $"Calls to {host} would be refused: it is {why}. Allow it with Webhooks:Dispatch:AllowedNetworks if it is meant."
            : null;
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

    private static async Task<IPAddress[]> Addresses(
        string host, Func<string, CancellationToken, Task<IPAddress[]>> resolve, CancellationToken cancellation) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await resolve(host, cancellation);

    /// <summary>
    /// Says what kind of address the host resolved to, never the address itself: this text reaches admins and
    /// publishers, who must not map internal names through it (the log of the host has what an operator needs).
    /// </summary>
    private SsrfRefusedException Refused(string host, IPAddress[] addresses) => new(addresses.Length == 0
        ? $"Refused to connect to {host}: it resolves to no address."
        : IPAddress.TryParse(host.Trim('[', ']'), out _)
            ? $"Refused to connect to {host}: it is {Refusal(addresses[0])}. Allow it with Webhooks:Dispatch:AllowedNetworks if it is meant."
            : $"Refused to connect to {host}: it resolves to " +
              string.Join(", ", addresses.Select(a => Refusal(a) ?? "an allowed address").Distinct()) +
              ". Allow it with Webhooks:Dispatch:AllowedNetworks if it is meant.");
}

/// <summary>This host's own interface addresses, read again at most once a minute (interfaces change rarely).</summary>
public static class InterfaceAddresses
{
    private static (IReadOnlyCollection<IPAddress> Addresses, DateTime Until) cached = ([], DateTime.MinValue);

    public static IReadOnlyCollection<IPAddress> Current()
    {
        var now = DateTime.UtcNow;
        var current = cached;
        if (current.Until > now)
        {
            return current.Addresses;
        }

        HashSet<IPAddress> addresses;
        try
        {
            addresses = NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(u => u.Address)
                .ToHashSet();
        }
        catch (NetworkInformationException)
        {
            addresses = [];
        }

        cached = (addresses, now.AddMinutes(1));
        return addresses;
    }
}

/// <summary>Answers Definitions' question at definition time, with the same reason a delivery would give.</summary>
public static class CheckTargetAddressHandler
{
    public static Contracts.TargetAddressCheck Handle(Contracts.CheckTargetAddress check, SsrfGuard guard) =>
        new(guard.RefusalWithoutLookup(check.Url.IdnHost));
}
