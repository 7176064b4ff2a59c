using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Webhooks.BuildingBlocks;

namespace Webhooks.Host.Auth;

/// <summary><c>Authorization: Bearer &lt;api key&gt;</c>; 401 and 403 answered as problem details.</summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeys keys,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    private const string BearerPrefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var principal = keys.Find(header[BearerPrefix.Length..].Trim());
        return Task.FromResult(principal is null
            ? AuthenticateResult.Fail("Unknown API key.")
            : AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var presented = Request.Headers.Authorization.Count > 0;
        await Write(new ProblemDetails
        {
            Type = "urn:webhooks:unauthorized",
            Title = "Unauthorized",
            Status = StatusCodes.Status401Unauthorized,
            Detail = presented
                ? "The API key is not known. Send 'Authorization: Bearer <api key>' with a key configured in Webhooks:Auth:ApiKeys."
                : "This endpoint needs an API key: send 'Authorization: Bearer <api key>'.",
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        var roles = Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>()
            .Select(a => a.Roles).FirstOrDefault(r => !string.IsNullOrEmpty(r));
        await Write(Problems.Forbidden(roles is null
            ? "This API key may not do this."
            : $"This API key lacks the role this needs: one of {roles.Replace(",", ", ", StringComparison.Ordinal)}."));
    }

    private async Task Write(ProblemDetails problem) =>
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem });
}

public static class AuthExtensions
{
    public static IServiceCollection AddApiKeyAuth(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddSingleton(ApiKeys.FromConfiguration(configuration, environment.IsDevelopment()));
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        // Whatever an endpoint forgets to say, it needs a key; the role test catches it forgetting its roles.
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        return services;
    }
}
