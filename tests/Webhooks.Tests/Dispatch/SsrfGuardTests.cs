using System.Net;
using Webhooks.Dispatch.Outbound;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// The SSRF guard at its connect seam, with a fake resolver and a fake connect: no test here opens a socket, and none
/// sends a packet anywhere but nowhere. A refusal must come before the connect function is ever called.
/// </summary>
public sealed class SsrfGuardTests
{
    private readonly List<IPAddress[]> connects = [];

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.9")]
    [InlineData("192.168.1.1")]
    [InlineData("127.0.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fd00::1")]
    [InlineData("fe80::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:10.0.0.1")]
    public async Task a_host_resolving_to_an_internal_address_is_refused_before_any_socket(string address)
    {
        var guard = new SsrfGuard([]);

        var refusal = await Should.ThrowAsync<SsrfRefusedException>(() =>
            guard.Connect(new DnsEndPoint("hooks.example.com", 443), Resolve(address), Connect, CancellationToken.None).AsTask());

        refusal.Message.ShouldContain("hooks.example.com");
        connects.ShouldBeEmpty();
    }

    [Fact]
    public async Task an_internal_literal_address_is_refused_too()
    {
        var guard = new SsrfGuard([]);
        await Should.ThrowAsync<SsrfRefusedException>(() =>
            guard.Connect(new DnsEndPoint("10.0.0.7", 80), Resolve("203.0.113.10"), Connect, CancellationToken.None).AsTask());
        connects.ShouldBeEmpty();
    }

    [Fact]
    public async Task a_public_address_is_connected_to_and_internal_ones_beside_it_are_dropped()
    {
        var guard = new SsrfGuard([]);

        await guard.Connect(new DnsEndPoint("hooks.example.com", 443), Resolve("10.0.0.1", "203.0.113.10"), Connect, CancellationToken.None);

        connects.Single().ShouldBe([IPAddress.Parse("203.0.113.10")]);
    }

    [Fact]
    public async Task allowed_networks_open_what_the_guard_would_refuse()
    {
        var guard = new SsrfGuard([IPNetwork.Parse("10.20.0.0/16")]);

        await guard.Connect(new DnsEndPoint("internal.example", 80), Resolve("10.20.3.4"), Connect, CancellationToken.None);
        await Should.ThrowAsync<SsrfRefusedException>(() =>
            guard.Connect(new DnsEndPoint("other.example", 80), Resolve("10.21.0.1"), Connect, CancellationToken.None).AsTask());

        connects.Single().ShouldBe([IPAddress.Parse("10.20.3.4")]);
    }

    [Fact]
    public void dns_answers_are_judged_at_connect_time_not_before()
    {
        // A rebinding name answers public first and private later: each connect resolves and judges again.
        var guard = new SsrfGuard([]);
        var answers = new Queue<string>(["203.0.113.10", "10.0.0.1"]);
        Task<IPAddress[]> Rebinding(string host, CancellationToken _) => Task.FromResult(new[] { IPAddress.Parse(answers.Dequeue()) });

        Should.NotThrow(() => guard.Connect(new DnsEndPoint("rebind.example", 80), Rebinding, Connect, CancellationToken.None).AsTask());
        Should.Throw<SsrfRefusedException>(() => guard.Connect(new DnsEndPoint("rebind.example", 80), Rebinding, Connect, CancellationToken.None).AsTask());
        connects.Count.ShouldBe(1);
    }

    private static Func<string, CancellationToken, Task<IPAddress[]>> Resolve(params string[] addresses) =>
        (_, _) => Task.FromResult(addresses.Select(IPAddress.Parse).ToArray());

    private ValueTask<Stream> Connect(IPAddress[] addresses, int port, CancellationToken cancellation)
    {
        connects.Add(addresses);
        return ValueTask.FromResult<Stream>(new MemoryStream());
    }
}
