using System.Net;
using System.Net.Sockets;
using Webhooks.Dispatch.Outbound;

namespace Webhooks.Tests.Infrastructure;

/// <summary>
/// The host names tests may use, and what they resolve to. Nothing here is ever looked up in DNS, and nothing is sent
/// to a non-loopback address: a test that aims at one expects the address guard to refuse it before any socket.
/// </summary>
public static class TestNames
{
    public static readonly IReadOnlyDictionary<string, IPAddress[]> Names = new Dictionary<string, IPAddress[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["internal.test"] = [IPAddress.Parse("10.9.9.9")],
        ["public.test"] = [IPAddress.Parse("93.184.215.14")],
        ["loopback.test"] = [IPAddress.Loopback],
    };

    public static HostResolver Resolver { get; } = new((host, _) => Names.TryGetValue(host, out var addresses)
        ? Task.FromResult(addresses)
        : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)));
}
