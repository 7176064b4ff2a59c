using System.Net;
using System.Text.RegularExpressions;
using Alba;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

/// <summary>
/// Walks every endpoint the host maps, so a new endpoint cannot forget its roles: without a key it must answer 401,
/// and with a key holding every role except the ones it allows, 403. Only the endpoints API.md leaves open may
/// allow anonymous callers.
/// </summary>
public sealed partial class when_calling_endpoints_without_the_right_key(AppFixture fixture) : AppTest(fixture)
{
    // "/" only sends browsers to the console (anything else gets a 404 problem naming the API's documents).
    private static readonly string[] OpenByDesign = ["/", "/health", "/health/ready", "/openapi/{documentName}.json", "/bins/{id:guid}/capture"];

    // The console's pages: a cookie sign-in of their own (see the console tests), never an API key.
    private const string Console = "/console";

    // Endpoints any key may call (they answer about the key itself).
    private static readonly string[] AnyRole = ["/me"];

    // The API reference UI and its static assets.
    private const string ReferenceUi = "/scalar/";

    [Fact]
    public void every_endpoint_either_names_its_roles_or_is_open_by_design()
    {
        var missing = Endpoints()
            .Where(e => !e.Anonymous && e.AllowedRoles.Length == 0)
            .Select(e => $"{e.Method} {e.Route}")
            .ToList();
        missing.ShouldBeEmpty("these endpoints need [Authorize(Roles = ...)]");

        var open = Endpoints().Where(e => e.Anonymous).Select(e => e.Route).Distinct().ToList();
        open.ShouldAllBe(
            route => OpenByDesign.Contains(route) || route.StartsWith(ReferenceUi, StringComparison.Ordinal),
            "only health, OpenAPI and the reference UI are open");
    }

    [Fact]
    public async Task every_protected_endpoint_answers_401_without_a_key_and_403_with_a_key_lacking_its_roles()
    {
        var protectedEndpoints = Endpoints().Where(e => !e.Anonymous).ToList();
        protectedEndpoints.Count.ShouldBeGreaterThanOrEqualTo(3);

        foreach (var endpoint in protectedEndpoints)
        {
            var url = RouteParameter().Replace(endpoint.Route, "x");
            var lacking = Roles.All.Except(endpoint.AllowedRoles).ToArray();
            if (AnyRole.Contains(endpoint.Route))
            {
                lacking.ShouldBeEmpty($"{endpoint.Method} {endpoint.Route} is for any key");
            }
            else
            {
                lacking.ShouldNotBeEmpty($"{endpoint.Method} {endpoint.Route} allows every role; no key can be refused");
            }

            var anonymous = await Send(endpoint.Method, url, apiKey: null);
            anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"{endpoint.Method} {endpoint.Route} without a key");
            anonymous.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");

            var unknown = await Send(endpoint.Method, url, apiKey: "not-a-configured-key");
            unknown.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"{endpoint.Method} {endpoint.Route} with an unknown key");

            if (lacking.Length > 0)
            {
                var wrongRole = await Send(endpoint.Method, url, TestKeys.For(lacking));
                wrongRole.StatusCode.ShouldBe(HttpStatusCode.Forbidden, $"{endpoint.Method} {endpoint.Route} with roles {string.Join(",", lacking)}");
                wrongRole.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            }
        }
    }

    [Fact]
    public async Task every_console_page_but_sign_in_needs_a_console_sign_in_and_an_api_key_is_not_one()
    {
        var pages = ConsolePages().ToList();
        pages.Count.ShouldBeGreaterThanOrEqualTo(10);
        pages.Where(p => p.Anonymous).Select(p => p.Route).Distinct().Order().ShouldBe(["/console/error", "/console/sign-in"]);

        foreach (var page in pages.Where(p => !p.Anonymous))
        {
            page.Policies.ShouldContain(Webhooks.Console.ConsoleModule.Policy, $"{page.Method} {page.Route}");
            var url = RouteParameter().Replace(page.Route, Guid.NewGuid().ToString()).Replace("/{**path}", "/anything", StringComparison.Ordinal);
            foreach (var apiKey in new[] { null, TestKeys.Admin })
            {
                var response = await Send(page.Method, url, apiKey);
                if (page.Method == "GET")
                {
                    response.StatusCode.ShouldBe(HttpStatusCode.Redirect, $"{page.Method} {page.Route} with {apiKey ?? "no key"}");
                    response.Headers.Location!.AbsolutePath.ShouldBe("/console/sign-in");
                }
                else
                {
                    // A form post without a console sign-in (and its antiforgery token) never reaches a page.
                    ((int)response.StatusCode).ShouldBeOneOf([302, 400]);
                }
            }
        }
    }

    [Fact]
    public async Task a_401_says_how_to_authenticate()
    {
        var response = await Send("GET", "/applications", apiKey: null);
        response.Headers.WwwAuthenticate.ToString().ShouldBe("Bearer");
        (await response.Content.ReadAsStringAsync()).ShouldContain("Authorization: Bearer");
    }

    private async Task<HttpResponseMessage> Send(string method, string url, string? apiKey)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (apiKey is not null)
        {
            request.Headers.Authorization = new("Bearer", apiKey);
        }

        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }

        return await Host.Server.CreateClient().SendAsync(request);
    }

    private sealed record MappedEndpoint(string Method, string Route, bool Anonymous, string[] AllowedRoles, string[] Policies);

    private IEnumerable<MappedEndpoint> Endpoints() => AllEndpoints().Where(e => !e.Route.StartsWith(Console, StringComparison.Ordinal));

    private IEnumerable<MappedEndpoint> ConsolePages() => AllEndpoints().Where(e => e.Route.StartsWith(Console, StringComparison.Ordinal));

    private IEnumerable<MappedEndpoint> AllEndpoints() =>
        Host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint =>
            {
                var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
                var roles = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>()
                    .SelectMany(a => (a.Roles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    .Distinct()
                    .ToArray();
                var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>().ToArray();
                if (policies.Contains(Webhooks.Host.Api.TelemetryExtensions.MetricsPolicy))
                {
                    // /metrics: its policy takes these roles (or a caller from the configured networks, none here).
                    roles = [Roles.Metrics, Roles.Admin];
                }

                var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
                var route = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
                return methods.Select(m => new MappedEndpoint(m, route, anonymous, roles, policies));
            });

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
