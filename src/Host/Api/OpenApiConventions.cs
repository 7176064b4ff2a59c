using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Webhooks.Host.Api;

/// <summary>
/// What every operation of the OpenAPI document says (issue 16), applied once the generator is done, so that no endpoint
/// can forget it: a stable camelCase <c>operationId</c>; the problems it may answer (401 without a known key, 403
/// without the role, 412 where it takes <c>If-Match</c>), each as <c>application/problem+json</c>; no stray
/// <c>IResult</c> answer where the endpoint declares its real one; a description of each tag; and request and answer
/// examples from the README's walkthrough. Spectral lints the result (tests/Webhooks.Tests/Platform, .spectral.yaml).
/// </summary>
internal static partial class OpenApiConventions
{
    /// <summary>The tags, one per part of the API, with what they hold.</summary>
    private static readonly Dictionary<string, string> Tags = new(StringComparer.Ordinal)
    {
        ["Event sources"] = "The business applications' events that webhooks can be defined on (Hornbill's catalog).",
        ["Webhooks"] = "Define, change, enable, disable, test and delete webhooks; their history, signing secret and trigger expressions.",
        ["Events"] = "Publish business events: matched, delivered asynchronously, or called synchronously with a veto.",
        ["Deliveries"] = "Every delivery and attempt, statistics, redelivery and recovery.",
        ["KeySafe"] = "Credentials for targets, sealed and write-only, with their history.",
        ["Request bins"] = "Capture what a webhook would send, for trying definitions out.",
        ["Audit"] = "The audit log of every change, and the rebuilding of read models from the events.",
        ["API keys"] = "What the calling API key may do.",
    };

    public static Task Apply(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellation)
    {
        var access = context.DescriptionGroups
            .SelectMany(group => group.Items)
            .Where(d => d.HttpMethod is not null && d.RelativePath is not null)
            .GroupBy(d => (d.HttpMethod!.ToUpperInvariant(), "/" + RouteConstraint().Replace(d.RelativePath!, "").TrimEnd('/')))
            .ToDictionary(g => g.Key, g => Access(g.First().ActionDescriptor.EndpointMetadata));

        foreach (var (path, item) in document.Paths)
        {
            foreach (var (method, operation) in item.Operations ?? [])
            {
                access.TryGetValue((method.Method.ToUpperInvariant(), path), out var rule);
                Conform(document, operation, rule);
            }
        }

        if (document.Components?.Schemas is { } schemas && !Referenced(document, "IResult"))
        {
            schemas.Remove("IResult");
        }

        var used = document.Paths.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? []).SelectMany(o => o.Tags?.AsEnumerable() ?? []).Select(t => t.Name).ToHashSet();
        document.Tags = new HashSet<OpenApiTag>(used.Order().Select(name => new OpenApiTag { Name = name, Description = Tags.GetValueOrDefault(name ?? "") }));
        return Task.CompletedTask;
    }

    private static void Conform(OpenApiDocument document, OpenApiOperation operation, (bool Secured, string[] Roles) access)
    {
        if (operation.OperationId is { Length: > 0 } id)
        {
            operation.OperationId = char.ToLowerInvariant(id[0]) + id[1..];
        }

        operation.Responses ??= [];
        var responses = operation.Responses;
        // Wolverine documents an endpoint returning IResult as "200: IResult" beside the answers it declares.
        if (responses.TryGetValue("200", out var ok) && ok.Content?.Values.Any(m => m.Schema is OpenApiSchemaReference { Reference.Id: "IResult" }) == true)
        {
            if (responses.Keys.Any(code => code.StartsWith('2') && code != "200"))
            {
                responses.Remove("200");
            }
            else if (ok is OpenApiResponse plain)
            {
                plain.Content = null;
            }
        }

        if (access.Secured)
        {
            responses.TryAdd("401", Problem(document, "No API key, or one that is not known (`Authorization: Bearer <key>`)."));
            if (access.Roles.Length > 0)
            {
                responses.TryAdd("403", Problem(document, $"The API key lacks the role: {string.Join(" or ", access.Roles)}."));
            }
        }

        if (operation.Parameters?.Any(p => p.In == ParameterLocation.Header && p.Name == "If-Match") == true)
        {
            responses.TryAdd("412", Problem(document, "The `If-Match` version is not the current one: read it again."));
        }

        foreach (var (code, response) in responses.Where(r => r.Key[0] is '4' or '5').ToList())
        {
            if (response is OpenApiResponse { Content: null or { Count: 0 } } bare)
            {
                responses[code] = Problem(document, bare.Description ?? code);
            }
        }

        OpenApiExamples.Add(operation);
    }

    private static OpenApiResponse Problem(OpenApiDocument document, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", document) },
        },
    };

    private static readonly Dictionary<Type, string[]> RequiredByValidation = new()
    {
        [typeof(Webhooks.Definitions.Contracts.DefineWebhook)] = ["name", "application", "eventSource", "url", "payloadFormat", "postMode"],
        [typeof(Webhooks.Definitions.Contracts.RegisterEventSource)] = ["entity", "event"],
        [typeof(Webhooks.Dispatch.Contracts.PublishEntityEvent)] = ["application", "eventSource", "record"],
        [typeof(Webhooks.KeySafe.Contracts.CreateKey)] = ["name", "type"],
    };

    /// <summary>Whether the endpoint needs a key, and which roles it takes (none listed: any key).</summary>
    private static (bool Secured, string[] Roles) Access(IList<object> metadata)
    {
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            return (false, []);
        }

        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        var roles = authorize.SelectMany(a => (a.Roles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToArray();
        return (true, roles);
    }

    private static bool Referenced(OpenApiDocument document, string schema)
    {
        using var writer = new StringWriter();
        document.SerializeAsV31(new OpenApiJsonWriter(writer));
        return writer.ToString().Contains($"#/components/schemas/{schema}\"", StringComparison.Ordinal);
    }

    /// <summary>
    /// A record's constructor makes the generator list every parameter as required, but a nullable one may be left
    /// out of a request (it takes its default) and may be absent from an answer: only the others are required, and the
    /// request fields the validators require (a missing one is a 400 naming it).
    /// </summary>
    public static Task RequiredFields(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellation)
    {
        if (schema.Required is { Count: > 0 } required && schema.Properties is { } properties)
        {
            foreach (var name in required.Where(name => properties.TryGetValue(name, out var property) && Nullable(property)).ToList())
            {
                required.Remove(name);
            }
        }

        // The request fields the validators require (nullable in the contracts so that a missing one is a field error).
        if (RequiredByValidation.TryGetValue(context.JsonTypeInfo.Type, out var fields))
        {
            schema.Required ??= new HashSet<string>();
            schema.Required.UnionWith(fields);
        }

        return Task.CompletedTask;

        static bool Nullable(IOpenApiSchema property) =>
            property.Type is { } type && type.HasFlag(JsonSchemaType.Null)
            || (property.OneOf ?? []).Concat(property.AnyOf ?? []).Any(option => option.Type is { } t && t.HasFlag(JsonSchemaType.Null));
    }

    [GeneratedRegex(@":[^}]+(?=})")]
    private static partial Regex RouteConstraint();
}

/// <summary>Request and answer examples of the main operations, as the README's walkthrough sends and gets them.</summary>
internal static class OpenApiExamples
{
    private static readonly Dictionary<string, (string? Request, string? Status, string? Answer)> ByOperation = new(StringComparer.Ordinal)
    {
        ["registerEventSource"] = ("""
            {"entity":"Contact","table":"h_sys_contacts","event":"update","sampleRecord":{"h_pk_id":"103","h_name":"Gary","h_email":"g@example.com"}}
            """, null, null),
        ["createKey"] = ("""
            {"name":"crm basic","type":"httpBasic","description":"outbound to the CRM","username":"hooks","password":"s3cret"}
            """, "201", """
            {"id":"0193a5e4-7c1e-7c52-9d4e-1f2a3b4c5d6e","name":"crm basic","type":"httpBasic","description":"outbound to the CRM",
             "username":"hooks","allowedOrigins":[],"createdAt":"2026-11-29T10:00:00+00:00","updatedAt":"2026-11-29T10:00:00+00:00",
             "secretRotatedAt":"2026-11-29T10:00:00+00:00","version":1}
            """),
        ["defineWebhook"] = ("""
            {"name":"notify-crm","description":"tell the CRM","application":"com.hornbill.servicemanager","eventSource":"contact-update",
             "enabled":true,"keySafeKeyId":"0193a5e4-7c1e-7c52-9d4e-1f2a3b4c5d6e","url":"https://crm.example.com/hooks/contact",
             "payloadFormat":"json","postMode":"async","triggerExpression":"h_name LIKE 'G%' AND h_email IS NOT NULL"}
            """, null, null),
        ["publishEvent"] = ("""
            {"application":"com.hornbill.servicemanager","eventSource":"contact-update","actionBy":"admin",
             "actionByName":"System Administrator","callingSessionId":"U2015111600017554",
             "record":{"h_pk_id":"103","h_name":"Gary","h_email":"g@example.com"}}
            """, "202", """
            {"eventId":"0193a5e4-8d2f-7a41-b1c2-d3e4f5a6b7c8","allowed":true,"warnings":[],
             "deliveries":[{"id":"0193a5e4-8d30-7b52-a1b2-c3d4e5f6a7b8","webhook":"notify-crm","postMode":"async","status":"pending"}]}
            """),
    };

    public static void Add(OpenApiOperation operation)
    {
        if (operation.OperationId is null || !ByOperation.TryGetValue(operation.OperationId, out var example))
        {
            return;
        }

        if (example.Request is { } request && operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true)
        {
            body.Example = JsonNode.Parse(request);
        }

        if (example is { Status: { } status, Answer: { } answer }
            && operation.Responses?.TryGetValue(status, out var response) == true
            && response.Content?.TryGetValue("application/json", out var content) == true)
        {
            content.Example = JsonNode.Parse(answer);
        }
    }
}
