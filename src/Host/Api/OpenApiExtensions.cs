using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Webhooks.Host.Api;

public static class OpenApiExtensions
{
    public static IServiceCollection AddWebhooksOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options => options.AddSchemaTransformer(HeaderValueSchema).AddSchemaTransformer(OpenApiConventions.RequiredFields).AddDocumentTransformer((document, _, _) =>
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
        }).AddDocumentTransformer(OpenApiConventions.Apply));

    /// <summary>
    /// A custom header's value is written by its own JSON converter: a string, or <c>{"keySafeKeyId": "..."}</c>. The
    /// generator cannot see through a converter (it leaves the headers' values undescribed), so the schema is said here.
    /// </summary>
    private static Task HeaderValueSchema(OpenApiSchema schema, Microsoft.AspNetCore.OpenApi.OpenApiSchemaTransformerContext context, CancellationToken cancellation)
    {
        if (context.JsonTypeInfo.Type != typeof(IReadOnlyDictionary<string, Webhooks.Definitions.Contracts.HeaderValue>))
        {
            return Task.CompletedTask;
        }

        schema.AdditionalPropertiesAllowed = true;
        schema.AdditionalProperties = new OpenApiSchema
        {
            Description = "A literal value, or {\"keySafeKeyId\": \"<id>\"}: the secret value of a KeySafe key (a bearer key's token, an apiKeyHeader key's value).",
            OneOf =
        [
            new OpenApiSchema { Type = JsonSchemaType.String, Description = "The value as it is sent (printable ASCII)." },
            new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["keySafeKeyId"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
                },
                Required = new HashSet<string> { "keySafeKeyId" },
                AdditionalPropertiesAllowed = false,
            },
        ],
        };
        return Task.CompletedTask;
    }

    /// <summary><c>/openapi/v1.json</c> and the API reference UI at <c>/scalar/v1</c>, both without a key.</summary>
    public static WebApplication MapWebhooksOpenApi(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        return app;
    }
}
