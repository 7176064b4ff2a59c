using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Refit;
using Webhooks.Dispatch;
using Webhooks.Dispatch.Outbound;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// The address guard, issue 11 items 6, 8 and 9: a refused target fails at once with its reason (not retried on the
/// schedule), what can be known at definition is refused then, and proxies cannot carry a call past the guard.
/// Nothing here sends a packet beyond loopback: the guard refuses before any socket, and the "proxy" is a loopback
/// server that only records what reaches it.
/// </summary>
public sealed class when_targets_are_refused_by_the_address_guard(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task a_delivery_to_a_name_resolving_to_a_private_address_fails_at_once_with_the_reason()
    {
        await Fixture.Hook("internal", new Uri("http://internal.test/hook"));

        var answer = await Host.Publish(HttpStatusCode.Accepted);

        var delivery = await Poll.Until(
            () => Fixture.Client(TestKeys.Auditor).GetDelivery(answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid()),
            d => d.Status != "pending");
        delivery.Status.ShouldBe("failed");
        delivery.Attempts.Count.ShouldBe(1, "a refusal by the guard is not retried on the schedule");
        delivery.Attempts[0].Error!.ShouldContain("internal.test: it resolves to a private address");
        delivery.Attempts[0].Error!.ShouldNotContain("10.9.9.9", customMessage: "the internal address is not shown to admins and publishers");
        delivery.Reason!.ShouldStartWith("Not retried");
    }

    [Theory]
    [InlineData("http://10.1.2.3/hook", "a private address")]
    [InlineData("http://100.64.0.1/hook", "a carrier-grade NAT address")]
    [InlineData("https://[fe80::1]/hook", "a link-local address")]
    [InlineData("http://192.0.2.10/hook", "a documentation address")]
    public async Task a_literal_address_the_guard_refuses_is_refused_at_definition(string url, string reason)
    {
        var refused = await Should.ThrowAsync<ValidationApiException>(() =>
            Fixture.Client(TestKeys.Admin).DefineWebhook(DefinitionsSetup.Webhook("literal") with { Url = url }));

        refused.Content!.Errors["url"].Single().ShouldContain(reason);
    }
}

/// <summary>
/// Tests that change process-wide settings (HttpClient.DefaultProxy): they run alone, after every parallel collection.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWide
{
    public const string Name = "process-wide settings";
}

/// <summary>Proxies: environment ones are ignored; a configured one carries only what the guard allows.</summary>
[Collection(ProcessWide.Name)]
public sealed class when_an_http_proxy_is_around : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> proxied = new();
    private WebApplication proxy = null!;
    private Uri proxyUrl = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        proxy = builder.Build();
        // A forward proxy gets absolute-form requests: it records the target it was asked for, and forwards nothing.
        proxy.Run(context =>
        {
            proxied.Enqueue($"{context.Request.Host}{context.Request.Path}");
            return Task.CompletedTask;
        });
        await proxy.StartAsync();
        proxyUrl = new Uri(proxy.Urls.First());
    }

    public async Task DisposeAsync() => await proxy.DisposeAsync();

    [Fact]
    public async Task an_environment_proxy_is_ignored_so_the_guard_sees_the_target()
    {
        var before = HttpClient.DefaultProxy;
        HttpClient.DefaultProxy = new WebProxy(proxyUrl) { BypassProxyOnLocal = false };
        try
        {
            using var http = new OutboundHttp(Guard(), new DispatchOptions(), TestNames.Resolver);

            var failed = await Should.ThrowAsync<HttpRequestException>(() => http.Client.PostAsync("http://10.1.2.3/hook", new StringContent("x")));
            SsrfRefusedException.In(failed).ShouldNotBeNull(failed.ToString());
        }
        finally
        {
            HttpClient.DefaultProxy = before;
        }

        proxied.ShouldBeEmpty("the call did not go through HTTP_PROXY around the guard");
    }

    [Fact]
    public async Task a_configured_proxy_carries_allowed_targets_and_the_guard_refuses_the_others_before_sending()
    {
        using var http = new OutboundHttp(Guard(), new DispatchOptions { Proxy = proxyUrl.ToString() }, TestNames.Resolver);

        SsrfRefusedException.In(await Should.ThrowAsync<HttpRequestException>(() => http.Client.PostAsync("http://10.1.2.3/hook", new StringContent("x"))))!
            .Message.ShouldContain("a private address");
        SsrfRefusedException.In(await Should.ThrowAsync<HttpRequestException>(() => http.Client.PostAsync("http://internal.test/hook", new StringContent("x"))))!
            .Message.ShouldContain("a private address");
        proxied.ShouldBeEmpty();

        using var response = await http.Client.PostAsync("http://public.test/hook", new StringContent("x"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        proxied.ToList().ShouldBe(["public.test/hook"], customMessage: "the proxy was asked for the target, which it would resolve and call itself");
    }

    [Fact]
    public async Task a_name_that_does_not_resolve_through_a_proxy_is_a_failed_call_not_a_crash()
    {
        using var http = new OutboundHttp(Guard(), new DispatchOptions { Proxy = proxyUrl.ToString() }, TestNames.Resolver);

        var failed = await Should.ThrowAsync<HttpRequestException>(() => http.Client.PostAsync("http://nowhere.test/hook", new StringContent("x")));

        failed.HttpRequestError.ShouldBe(HttpRequestError.NameResolutionError);
        proxied.ShouldBeEmpty();
    }

    /// <summary>The test host's guard: loopback allowed (the proxy and receivers live there), everything else as in production.</summary>
    private static SsrfGuard Guard() => new([IPNetwork.Parse("127.0.0.0/8")]);
}
