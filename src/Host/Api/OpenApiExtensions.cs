using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Webhooks.Host.Api;

public static class OpenApiExtensions
{
    public static IServiceCollection AddWebhooksOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Webhooks",
                Version = "v1",
                Description = "Define webhooks on business applications' events, publish events, and audit every delivery.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key from Webhooks:Auth:ApiKeys (dev-admin-key in Development).",
            };
            document.Security ??= [];
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] });
            return Task.CompletedTask;
        }));

    /// <summary><c>/openapi/v1.json</c> and the API reference UI at <c>/scalar/v1</c>, both without a key.</summary>
    public static WebApplication MapWebhooksOpenApi(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        return app;
    }
}
