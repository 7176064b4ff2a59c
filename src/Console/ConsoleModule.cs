using System.Reflection;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;


namespace Webhooks.Console;

/// <summary><c>Webhooks:Console</c> settings.</summary>
public sealed class ConsoleOptions
{
    /// <summary>How long a sign-in lasts (absolute: the session ends then, however busy).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Where the console reaches the API; by default the address this host listens on (loopback first).</summary>
    public string? ApiBaseUrl { get; set; }
}

/// <summary>
/// The console, composed by the host like a module: Razor Pages at <c>/console</c>, a cookie sign-in holding the API
/// key (encrypted by ASP.NET Data Protection, HttpOnly, SameSite=Strict), antiforgery on every form, a strict
/// Content-Security-Policy (nothing but this host), and its assets from this assembly.
/// </summary>
public static class ConsoleModule
{
    public const string Scheme = "Console";
    public const string Policy = "Console";
    public const string BasePath = "/console";
    public const string AssetsPath = "/console/assets";

    /// <summary>The policy every page but sign-in needs: a console sign-in.</summary>
    public static IServiceCollection AddConsole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ConsoleOptions>().BindConfiguration("Webhooks:Console")
            .Validate(o => o.SessionLifetime > TimeSpan.Zero, "Webhooks:Console:SessionLifetime must be positive.")
            .Validate(o => o.ApiBaseUrl is null || Uri.TryCreate(o.ApiBaseUrl, UriKind.Absolute, out _), "Webhooks:Console:ApiBaseUrl must be an absolute URL.")
            .ValidateOnStart();
        services.AddRazorPages(pages =>
            {
                pages.Conventions.AuthorizeFolder("/", Policy);
                pages.Conventions.AllowAnonymousToPage("/SignIn");
                pages.Conventions.AllowAnonymousToPage("/Error");
                // The webhook form serves both a new webhook and a change to one.
                pages.Conventions.AddPageRoute("/Hooks/Edit", "console/webhooks/new");
            })
            .AddApplicationPart(typeof(ConsoleModule).Assembly);
        services.AddAuthentication().AddCookie(Scheme, cookie =>
        {
            cookie.Cookie.Name = "webhooks-console";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.Cookie.Path = BasePath;
            cookie.LoginPath = $"{BasePath}/sign-in";
            cookie.AccessDeniedPath = $"{BasePath}/denied";
            cookie.SlidingExpiration = false;
            cookie.Events.OnRedirectToLogin = context =>
            {
                if (context.Request.Cookies.ContainsKey("webhooks-console"))
                {
                    // A cookie that no longer signs in: the session ended (or the host's keys changed).
                    context.RedirectUri += "&expired=1";
                }

                // htmx swaps what it gets into the page: tell it to go to the sign-in page instead.
                if (context.Request.Headers.ContainsKey("HX-Request"))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers["HX-Redirect"] = context.RedirectUri;
                }
                else
                {
                    context.Response.Redirect(context.RedirectUri);
                }

                return Task.CompletedTask;
            };
            cookie.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                if (context.Request.Headers.ContainsKey("HX-Request"))
                {
                    context.Response.Headers["HX-Redirect"] = context.RedirectUri;
                }
                else
                {
                    context.Response.Redirect(context.RedirectUri);
                }

                return Task.CompletedTask;
            };
        });
        services.AddOptions<CookieAuthenticationOptions>(Scheme)
            .Configure<IOptions<ConsoleOptions>>((cookie, console) => cookie.ExpireTimeSpan = console.Value.SessionLifetime);
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.HeaderName = "RequestVerificationToken";
            antiforgery.Cookie.Name = "webhooks-console-antiforgery";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.Path = BasePath;
        });
        services.AddHttpContextAccessor();
        // The API answers no cookies, and none of one user's may reach another's calls.
        services.AddHttpClient(ConsoleApi.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false })
            .RemoveAllLoggers();
        services.AddSingleton<ApiAddress>();
        services.AddScoped<ConsoleApi>();
        return services;
    }

    /// <summary>
    /// The console's assets, before authentication (they are public) with long caching, and its security headers. A
    /// failure under <c>/console</c> is a page in words (the API's JSON problems are for programs).
    /// </summary>
    public static IApplicationBuilder UseConsoleAssets(this IApplicationBuilder app)
    {
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments(BasePath),
            console => console.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandlingPath = $"{BasePath}/error", AllowStatusCode404Response = true }));
        var types = new FileExtensionContentTypeProvider();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new EmbeddedFileProvider(typeof(ConsoleModule).Assembly, "Webhooks.Console.Assets"),
            RequestPath = AssetsPath,
            ContentTypeProvider = types,
            OnPrepareResponse = context =>
                context.Context.Response.Headers.CacheControl = "public, max-age=86400",
        });
        return app.UseWhen(context => context.Request.Path.StartsWithSegments(BasePath), console => console.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy =
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
                "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            // What antiforgery sets on every page with a form (anything else, it overrides with a warning).
            headers.CacheControl = "no-cache, no-store";
            headers.Pragma = "no-cache";
            await next(context);
        }));
    }

    /// <summary>The pages, and <c>/</c> sending browsers to the console.</summary>
    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (HttpContext context) =>
                context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase)
                    ? Results.Redirect(BasePath)
                    : Results.Problem(
                        detail: "This is the Webhooks API: see /openapi/v1.json, the reference at /scalar/v1, or the console at /console.",
                        statusCode: StatusCodes.Status404NotFound, title: "Not found", type: "urn:webhooks:not-found"))
            .AllowAnonymous()
            .ExcludeFromDescription();
        endpoints.MapRazorPages();
        return endpoints;
    }

    /// <summary>A version stamp for asset URLs, so a new build is never served from a stale cache.</summary>
    public static string AssetVersion { get; } =
        typeof(ConsoleModule).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.GetHashCode(StringComparison.Ordinal)
            .ToString("x", System.Globalization.CultureInfo.InvariantCulture) ?? "1";
}

/// <summary>Where the console finds the API: configured, or the address this host listens on (loopback preferred).</summary>
public sealed class ApiAddress(IOptions<ConsoleOptions> options, IServer server)
{
    private Uri? found;

    public Uri BaseUrl => found ??= Find();

    private Uri Find()
    {
        if (options.Value.ApiBaseUrl is { } configured)
        {
            return new Uri(configured);
        }

        var addresses = server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.OrderBy(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? 0 : 1).FirstOrDefault()
            ?? throw new InvalidOperationException("The host listens on no address; set Webhooks:Console:ApiBaseUrl.");
        var uri = new UriBuilder(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::" or "localhost")
        {
            uri.Host = "127.0.0.1";
        }

        return uri.Uri;
    }
}
