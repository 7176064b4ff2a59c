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
    [InlineData("::7f00:1")]
    [InlineData("::ffff:0:7f00:1")]
    [InlineData("2002:7f00:1::1")]
    [InlineData("64:ff9b::a00:1")]
    [InlineData("64:ff9b:1::1")]
    [InlineData("2001::1")]
    [InlineData("fec0::1")]
    [InlineData("2001:db8::1")]
    [InlineData("192.0.2.1")]
    [InlineData("198.51.100.1")]
    [InlineData("203.0.113.1")]
    [InlineData("198.18.0.1")]
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
            guard.Connect(new DnsEndPoint("10.0.0.7", 80), Resolve("93.184.215.14"), Connect, CancellationToken.None).AsTask());
        connects.ShouldBeEmpty();
    }

    [Fact]
    public async Task a_public_address_is_connected_to_and_internal_ones_beside_it_are_dropped()
    {
        var guard = new SsrfGuard([]);

        await guard.Connect(new DnsEndPoint("hooks.example.com", 443), Resolve("10.0.0.1", "93.184.215.14"), Connect, CancellationToken.None);

        connects.Single().ShouldBe([IPAddress.Parse("93.184.215.14")]);
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
        var answers = new Queue<string>(["93.184.215.14", "10.0.0.1"]);
        Task<IPAddress[]> Rebinding(string host, CancellationToken _) => Task.FromResult(new[] { IPAddress.Parse(answers.Dequeue()) });

        Should.NotThrow(() => guard.Connect(new DnsEndPoint("rebind.example", 80), Rebinding, Connect, CancellationToken.None).AsTask());
        Should.Throw<SsrfRefusedException>(() => guard.Connect(new DnsEndPoint("rebind.example", 80), Rebinding, Connect, CancellationToken.None).AsTask());
        connects.Count.ShouldBe(1);
    }

    [Fact]
    public async Task an_ipv4_address_carried_in_ipv6_is_judged_as_that_ipv4_address()
    {
        var guard = new SsrfGuard([]);

        SsrfGuard.CarriedIPv4(IPAddress.Parse("2002:7f00:1::1")).ShouldBe(IPAddress.Parse("127.0.0.1"));
        SsrfGuard.CarriedIPv4(IPAddress.Parse("64:ff9b::5db8:d70e")).ShouldBe(IPAddress.Parse("93.184.215.14"));
        guard.Refusal(IPAddress.Parse("::ffff:0:7f00:1"))!.ShouldContain("loopback");
        await guard.Connect(new DnsEndPoint("nat64.example", 443), Resolve("64:ff9b::5db8:d70e"), Connect, CancellationToken.None);

        connects.Single().ShouldBe([IPAddress.Parse("64:ff9b::5db8:d70e")], "NAT64 of a public address is public");
    }

    [Fact]
    public async Task this_hosts_own_addresses_are_refused_unless_allowed()
    {
        var own = IPAddress.Parse("93.184.215.99");
        var guard = new SsrfGuard([], () => [own]);
        var allowing = new SsrfGuard([IPNetwork.Parse("93.184.215.99/32")], () => [own]);

        (await Should.ThrowAsync<SsrfRefusedException>(() =>
            guard.Connect(new DnsEndPoint("me.example", 80), Resolve("93.184.215.99"), Connect, CancellationToken.None).AsTask()))
            .Message.ShouldContain("this host's own network interfaces");
        await allowing.Connect(new DnsEndPoint("me.example", 80), Resolve("93.184.215.99"), Connect, CancellationToken.None);

        connects.Single().ShouldBe([own]);
    }

    [Theory]
    [InlineData("10.0.0.7", "a private address")]
    [InlineData("localhost", "a loopback address")]
    [InlineData("api.localhost", "a loopback address")]
    [InlineData("[::1]", "a loopback address")]
    [InlineData("203.0.113.5", "a documentation address")]
    public void what_can_be_known_without_dns_is_refused_with_its_reason(string host, string reason)
    {
        new SsrfGuard([]).RefusalWithoutLookup(host)!.ShouldContain(reason);
        new SsrfGuard([]).RefusalWithoutLookup("hooks.example.com").ShouldBeNull("a name is judged when it is resolved, at each call");
    }

    private static Func<string, CancellationToken, Task<IPAddress[]>> Resolve(params string[] addresses) =>
        (_, _) => Task.FromResult(addresses.Select(IPAddress.Parse).ToArray());

    private ValueTask<Stream> Connect(IPAddress[] addresses, int port, CancellationToken cancellation)
    {
        connects.Add(addresses);
        return ValueTask.FromResult<Stream>(new MemoryStream());
    }
}
