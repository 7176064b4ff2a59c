using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Refit;
using Webhooks.Client;
using Webhooks.Contracts;

namespace Webhooks.Console;

/// <summary>
/// The API as the signed-in key may use it: every page goes through here, so the console can do exactly what its key
/// can do through the API, and nothing else.
/// </summary>
public sealed class ConsoleApi(IHttpClientFactory clients, ApiAddress address, IHttpContextAccessor context)
{
    public const string HttpClientName = "console-api";
    public const string KeyClaim = "webhooks-console:api-key";

    private IWebhooksApi? api;

    public IWebhooksApi Api => api ??= For(context.HttpContext?.User.FindFirst(KeyClaim)?.Value
        ?? throw new InvalidOperationException("No console sign-in: the page should not have run."));

    /// <summary>A client with a key not yet signed in (the sign-in page asks who it is).</summary>
    public IWebhooksApi For(string apiKey)
    {
        var http = clients.CreateClient(HttpClientName);
        http.BaseAddress = address.BaseUrl;
        return WebhooksClient.Create(http, apiKey);
    }
}

/// <summary>What the signed-in key may do, read from its sign-in (the API decides; this only hides what it would refuse).</summary>
public static class ConsoleUser
{
    public static bool Can(this ClaimsPrincipal user, params string[] roles) => roles.Any(user.IsInRole);

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(Roles.Admin);

    /// <summary>Reads webhooks, deliveries and the audit log: admins and auditors.</summary>
    public static bool CanRead(this ClaimsPrincipal user) => user.Can(Roles.Admin, Roles.Auditor);

    /// <summary>Sees KeySafe: keysafe users, auditors, and admins (who pick keys for webhooks).</summary>
    public static bool CanSeeKeys(this ClaimsPrincipal user) => user.Can(Roles.KeySafe, Roles.Auditor, Roles.Admin);

    public static bool CanManageKeys(this ClaimsPrincipal user) => user.IsInRole(Roles.KeySafe);

    public static string RoleList(this ClaimsPrincipal user) =>
        string.Join(", ", Roles.All.Where(user.IsInRole));
}

/// <summary>An API refusal as people read it: the problem's detail, and its field errors by field.</summary>
/// <param name="Webhooks">The webhooks a refusal names (a key still in use), for links.</param>
public sealed record ConsoleProblem(
    string Title, string Message, IReadOnlyDictionary<string, string[]> Fields, HttpStatusCode Status, IReadOnlyList<string>? Webhooks = null)
{
    /// <summary>A field error the page finds itself, before asking the API, shown as the API's own would be.</summary>
    public static ConsoleProblem ForField(string field, string message) => new(
        "The request is not valid", "Some fields need correcting: each says why beside it.",
        new Dictionary<string, string[]> { [field] = [message] }, HttpStatusCode.BadRequest);

    public static ConsoleProblem From(ApiException failure)
    {
        var fields = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        string? title = null;
        string? detail = null;
        List<string>? webhooks = null;
        // The raw answer (a ValidationApiException hides it behind its parsed ProblemDetails, which drops extensions).
        var content = ((ApiException)failure).Content;
        if (content is { Length: > 0 } && failure.ContentHeaders?.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
        {
            try
            {
                using var document = JsonDocument.Parse(content);
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Object)
                {
                    title = Text(root, "title");
                    detail = Text(root, "detail");
                    if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var error in errors.EnumerateObject())
                        {
                            fields[error.Name] = error.Value.ValueKind == JsonValueKind.Array
                                ? [.. error.Value.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : m.GetRawText())]
                                : [error.Value.ToString()];
                        }
                    }

                    if (root.TryGetProperty("webhooks", out var w) && w.ValueKind == JsonValueKind.Array)
                    {
                        webhooks = [.. w.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)];
                    }
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: the status alone says what happened.
            }
        }

        return new ConsoleProblem(
            title ?? Describe(failure.StatusCode),
            detail ?? $"The API answered {(int)failure.StatusCode} {failure.StatusCode}.",
            fields,
            failure.StatusCode,
            webhooks);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>What a form's banner says: with field errors, where to look (each is beside its field); else the API's words.</summary>
    public string Summary => Fields.Count > 0 ? "Some fields need correcting: each says why beside it." : Message;

    public string? For(string field) => Fields.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    /// <summary>A field's error, beside the field (the field names it with <c>aria-describedby="{field}-error"</c>).</summary>
    public static Microsoft.AspNetCore.Html.IHtmlContent FieldError(ConsoleProblem? problem, string field) =>
        problem?.For(field) is { } message
            ? new Microsoft.AspNetCore.Html.HtmlString(
                $"<span class=\"field-error\" id=\"{field}-error\">{System.Net.WebUtility.HtmlEncode(message)}</span>")
            : Microsoft.AspNetCore.Html.HtmlString.Empty;

    private static string Describe(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => "Not found",
        HttpStatusCode.Forbidden => "Not allowed",
        HttpStatusCode.Conflict => "Conflict",
        _ => "Something went wrong",
    };
}
