using System.Net;
using Microsoft.AspNetCore.Mvc;
using Refit;
using Webhooks.Definitions.Contracts;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.Console.Pages.Hooks;

/// <summary>The event source select, with the chosen application's sources (swapped in when the application changes).</summary>
public sealed record EventSourceChoice(IReadOnlyList<EventSourceView> Sources, string? Selected, string Invalid, string? DescribedBy);

/// <summary>What the form holds: the seed's fields.</summary>
public sealed class WebhookForm
{
    public string? Name { get; set; }
    public string? Description { get; set; }
    public string? Application { get; set; }
    public string? EventSource { get; set; }
    public bool Enabled { get; set; } = true;
    public Guid? KeySafeKeyId { get; set; }
    public string? Url { get; set; }
    public string PayloadFormat { get; set; } = PayloadFormats.Json;
    public string PostMode { get; set; } = PostModes.Async;
    public string? TriggerExpression { get; set; }

    /// <summary>Custom headers, a line each: <c>Name: value</c>, or <c>Name: keysafe:&lt;key name&gt;</c> for a value held in KeySafe.</summary>
    public string? Headers { get; set; }

    public const string KeySafePrefix = "keysafe:";

    public double? RatePerSecond { get; set; }
    public int? RateBurst { get; set; }
    public int? MaxConcurrency { get; set; }
    public bool Ordered { get; set; }
    public string? OrderingKey { get; set; }

    /// <summary>Whether any delivery control is set (its section then shows open).</summary>
    public bool HasFlowSettings => RatePerSecond is not null || RateBurst is not null || MaxConcurrency is not null || Ordered;

    /// <summary>The definition the form describes, or why its headers cannot be read (the line, and how to write it).</summary>
    public (DefineWebhook? Definition, string? HeadersProblem) ToDefinition(IReadOnlyList<KeyView> keys)
    {
        var headers = new Dictionary<string, HeaderValue>();
        foreach (var line in (Headers ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return (null, $"'{line}' is not a header: write one per line as Name: value, or Name: keysafe:<key name>.");
            }

            var (name, value) = (line[..colon].Trim(), line[(colon + 1)..].Trim());
            if (value.StartsWith(KeySafePrefix, StringComparison.OrdinalIgnoreCase))
            {
                var keyName = value[KeySafePrefix.Length..].Trim();
                var key = keys.FirstOrDefault(k => string.Equals(k.Name, keyName, StringComparison.OrdinalIgnoreCase))
                    ?? keys.FirstOrDefault(k => k.Id.ToString() == keyName);
                if (key is null)
                {
                    return (null, $"{name}: there is no KeySafe key named '{keyName}'.");
                }

                headers[name] = HeaderValue.FromKey(key.Id);
            }
            else
            {
                headers[name] = value;
            }
        }

        // One select for both fields: an httpBasic key is Hornbill's keySafeKeyId, any other type goes as authentication.
        var chosen = keys.FirstOrDefault(k => k.Id == KeySafeKeyId);
        var hornbill = KeySafeKeyId is not null && (chosen is null || chosen.Type == KeyTypes.HttpBasic);
        return (new DefineWebhook(
            Name?.Trim(), string.IsNullOrWhiteSpace(Description) ? null : Description, Application, EventSource, Enabled,
            hornbill ? KeySafeKeyId : null, Url?.Trim(), PayloadFormat, PostMode, string.IsNullOrWhiteSpace(TriggerExpression) ? null : TriggerExpression,
            headers.Count == 0 ? null : headers, KeySafeKeyId is not null && !hornbill ? new WebhookAuthentication(KeySafeKeyId) : null,
            RatePerSecond is null && RateBurst is null ? null : new RateLimit(RatePerSecond, RateBurst), MaxConcurrency,
            Ordered ? new Ordering(true, string.IsNullOrWhiteSpace(OrderingKey) ? null : OrderingKey.Trim()) : null), null);
    }

    /// <summary>Headers as the form writes them, KeySafe-held values by their key's name.</summary>
    public static string? HeaderLines(IReadOnlyDictionary<string, HeaderValue>? headers, IReadOnlyDictionary<Guid, string> keyNames) =>
        headers is not { Count: > 0 } ? null : string.Join('\n', headers.Select(h => $"{h.Key}: " + (h.Value.KeySafeKeyId is { } id
            ? KeySafePrefix + (keyNames.TryGetValue(id, out var name) ? name : id.ToString())
            : h.Value.Text)));

    public static WebhookForm From(WebhookDefinition w) => new()
    {
        Name = w.Name,
        Description = w.Description,
        Application = w.Application,
        EventSource = w.EventSource,
        Enabled = w.Enabled,
        KeySafeKeyId = w.AuthenticationKeyId,
        RatePerSecond = w.RateLimit?.PerSecond,
        RateBurst = w.RateLimit?.Burst,
        MaxConcurrency = w.MaxConcurrency,
        Ordered = w.Ordering?.Enabled == true,
        OrderingKey = w.Ordering?.Key,
        Url = w.Url,
        PayloadFormat = w.PayloadFormat,
        PostMode = w.PostMode,
        TriggerExpression = w.TriggerExpression,
    };
}

/// <summary>
/// Hornbill's webhook form (the seed's fields, labelled as there): define or change a webhook. The API checks every
/// field; its field errors appear beside their fields. A change made meanwhile by someone else (412) is shown with
/// what they changed, and the next Save replaces it knowingly.
/// </summary>
public sealed class WebhookFormModel(ConsoleApi console) : ConsolePage(console)
{
    public static readonly (string Value, string Label, string Hint)[] PostModeChoices =
    [
        (PostModes.Async, "Asynchronous",
            "Call the webhook in the background. If you do not need to act on the response from the webhook being called, this is the " +
            "recommended mode: any latency or failure of the webhook is not felt by the application. Failed calls are retried."),
        (PostModes.Sync, "Synchronous",
            "Use this mode if the webhook you call needs to return a response. The application waits; a response other than 2xx is " +
            "returned to it as a warning, with the response body as the message when its Content-Type is text/plain."),
        (PostModes.SyncCritical, "Synchronous Critical",
            "The same as Synchronous, but the webhook must return a 2xx success response: if not (or it times out), whatever caused " +
            "the event fails. Answer 403 with a text/plain body to show the user a message."),
    ];

    /// <summary>The webhook being changed (from the route), or null for a new one.</summary>
    public string? Name => RouteData.Values.TryGetValue("name", out var name) ? name as string : null;

    [BindProperty]
    public WebhookForm Form { get; set; } = new();

    [BindProperty]
    public long? Version { get; set; }

    public bool Editing => Name is not null;

    public IReadOnlyList<string> Applications { get; private set; } = [];
    public IReadOnlyList<EventSourceView> EventSources { get; private set; } = [];
    public IReadOnlyList<KeyView> Keys { get; private set; } = [];

    public IReadOnlyDictionary<Guid, string> KeyNames => Keys.ToDictionary(k => k.Id, k => k.Name);

    /// <summary>After a 412: the version now current, and what changed since the one the form was opened on.</summary>
    public (long Version, IReadOnlyList<WebhookChange> Changes)? Conflict { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? url, string? application, string? eventSource, CancellationToken cancellation)
    {
        if (!User.IsAdmin())
        {
            return Denied();
        }

        if (Editing)
        {
            var webhook = await Try(() => Api.GetWebhook(Name!, cancellationToken: cancellation));
            if (webhook is null)
            {
                return Shown();
            }

            Form = WebhookForm.From(webhook);
            Version = webhook.Version;
            await Choices(cancellation);
            Form.Headers = WebhookForm.HeaderLines(webhook.Headers, KeyNames);
            return Page();
        }
        else
        {
            // Prefilled from a bin ("use for webhook...") or the catalog ("new webhook on it").
            Form.Url = url;
            Form.Application = application;
            Form.EventSource = eventSource;
        }

        await Choices(cancellation);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellation)
    {
        if (!User.IsAdmin())
        {
            return Denied();
        }

        await Choices(cancellation);
        var (definition, headersProblem) = Form.ToDefinition(Keys);
        if (definition is null)
        {
            Problem = ConsoleProblem.ForField("headers", headersProblem!);
            return Page();
        }

        try
        {
            var saved = Editing
                ? await Api.UpdateWebhook(Name!, definition, Version is { } v ? $"\"{v}\"" : null, cancellation)
                : await Api.DefineWebhook(definition, cancellation);
            return Redirect($"/console/webhooks/{Uri.EscapeDataString(saved.Name)}?saved=true");
        }
        catch (ApiException refused) when (refused.StatusCode == HttpStatusCode.PreconditionFailed && Version is { } opened)
        {
            var current = await Api.GetWebhook(Name!, cancellationToken: cancellation);
            var history = await Api.GetWebhookHistory(Name!, limit: 500, cancellationToken: cancellation);
            Conflict = (current.Version, history.Items.Where(c => c.Version > opened).ToList());
            Version = current.Version;
        }
        catch (ApiException refused)
        {
            Problem = ConsoleProblem.From(refused);
        }

        return Page();
    }

    /// <summary>The application's event sources, for the select (htmx swaps it in when the application changes).</summary>
    public async Task<IActionResult> OnGetSourcesAsync([FromQuery(Name = "Form.Application")] string? application, CancellationToken cancellation)
    {
        var sources = string.IsNullOrEmpty(application)
            ? []
            : (await Try(() => Api.ListEventSources(application, limit: 500, cancellationToken: cancellation)))?.Items ?? [];
        return Partial("_EventSources", new EventSourceChoice(sources, null, "false", null));
    }

    /// <summary>The trigger expression checked as you type, and tried on the event source's sample record.</summary>
    public async Task<IActionResult> OnPostCheckAsync(
        [FromForm(Name = "Form.TriggerExpression")] string? expression, [FromForm(Name = "Form.Application")] string? application,
        [FromForm(Name = "Form.EventSource")] string? eventSource, CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            return Partial("_TriggerCheck", null);
        }

        var check = await Try(() => Api.CheckTriggerExpression(
            new CheckTriggerExpression(expression, NullIfEmpty(application), NullIfEmpty(eventSource)), cancellation));
        return Partial("_TriggerCheck", check);
    }

    private async Task Choices(CancellationToken cancellation)
    {
        // The choices are offered as far as they can be read; a refusal here must not hide the form's own problem.
        var problem = Problem;
        Applications = (await Try(() => Api.ListApplications(limit: 500, cancellationToken: cancellation)))?.Items.Select(a => a.Name).ToList() ?? [];
        if (Form.Application is { Length: > 0 } application)
        {
            EventSources = (await Try(() => Api.ListEventSources(application, limit: 500, cancellationToken: cancellation)))?.Items ?? [];
        }

        Keys = (await Try(() => Api.ListKeys(limit: 500, cancellationToken: cancellation)))?.Items ?? [];
        Problem = problem ?? Problem;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
