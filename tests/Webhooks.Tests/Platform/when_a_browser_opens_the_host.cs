using System.Net;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

/// <summary>
/// What the host answers a browser before any sign-in: the way to the console, its security headers, its assets,
/// and refusals of forms without their antiforgery token. (The console's pages themselves are tested in a browser.)
/// </summary>
public sealed class when_a_browser_opens_the_host(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task the_root_sends_browsers_to_the_console_and_programs_to_the_api_documents()
    {
        var page = await Send(HttpMethod.Get, "/", "text/html,application/xhtml+xml");
        page.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        page.Headers.Location!.OriginalString.ShouldBe("/console");

        var program = await Send(HttpMethod.Get, "/", "application/json");
        program.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        program.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await program.Content.ReadAsStringAsync()).ShouldContain("/openapi/v1.json");
    }

    [Fact]
    public async Task console_pages_carry_a_strict_content_security_policy_and_are_not_cached()
    {
        var signIn = await Send(HttpMethod.Get, "/console/sign-in", "text/html");
        signIn.StatusCode.ShouldBe(HttpStatusCode.OK);
        var csp = signIn.Headers.GetValues("Content-Security-Policy").Single();
        csp.ShouldContain("default-src 'self'");
        csp.ShouldContain("script-src 'self'");
        csp.ShouldContain("frame-ancestors 'none'");
        csp.ShouldNotContain("unsafe-inline");
        signIn.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY");
        signIn.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        signIn.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var html = await signIn.Content.ReadAsStringAsync();
        html.ShouldContain("<label for=\"ApiKey\">API key</label>");
        html.ShouldNotContain("<script>", Case.Insensitive, "no inline script: the CSP would refuse it");
        html.ShouldNotContain(" style=", Case.Insensitive, "no inline style: the CSP would refuse it");
        html.ShouldNotContain("https://", Case.Insensitive, "no third-party origin");
    }

    [Theory]
    [InlineData("/console/assets/htmx.min.js", "javascript")]
    [InlineData("/console/assets/console.js", "javascript")]
    [InlineData("/console/assets/console.css", "text/css")]
    public async Task the_consoles_assets_are_served_by_the_host_itself(string path, string type)
    {
        var asset = await Send(HttpMethod.Get, path, "*/*");
        asset.StatusCode.ShouldBe(HttpStatusCode.OK);
        asset.Content.Headers.ContentType!.MediaType!.ShouldContain(type);
        asset.Headers.CacheControl!.MaxAge.ShouldNotBeNull();
    }

    [Fact]
    public async Task a_page_without_a_sign_in_goes_to_the_sign_in_page_and_a_form_without_its_token_is_refused()
    {
        var page = await Send(HttpMethod.Get, "/console/deliveries", "text/html");
        page.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        page.Headers.Location!.AbsolutePath.ShouldBe("/console/sign-in");
        page.Headers.Location.Query.ShouldContain("ReturnUrl=%2Fconsole%2Fdeliveries");

        using var forged = new HttpRequestMessage(HttpMethod.Post, "/console/sign-in")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["ApiKey"] = TestKeys.Admin }),
        };
        var refused = await Host.Server.CreateClient().SendAsync(forged);
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest, "no antiforgery token: no sign-in");
        refused.Headers.Contains("Set-Cookie").ShouldBeFalse();
    }

    private Task<HttpResponseMessage> Send(HttpMethod method, string url, string accept)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Accept.ParseAdd(accept);
        return Host.Server.CreateClient().SendAsync(request);
    }
}
