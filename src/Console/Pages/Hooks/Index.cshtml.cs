using Microsoft.AspNetCore.Mvc;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console.Pages.Hooks;

/// <summary>One row's enabled switch: Hornbill's "this can also be done from the main list".</summary>
public sealed record SwitchModel(string Name, bool Enabled, bool MayChange, string? Problem);

/// <summary>The webhooks, filtered and searched, a page at a time (cursor paging: as fast on page 200 as on page 1).</summary>
public sealed class WebhookListModel(ConsoleApi console) : ConsolePage(console)
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public string? Application { get; set; }
    [BindProperty(SupportsGet = true)] public string? EventSource { get; set; }
    [BindProperty(SupportsGet = true)] public bool? Enabled { get; set; }
    [BindProperty(SupportsGet = true)] public string? After { get; set; }

    public Page<WebhookDefinition>? Found { get; private set; }
    public IReadOnlyList<string> Applications { get; private set; } = [];
    public IReadOnlyList<string> EventSources { get; private set; } = [];
    public IReadOnlyDictionary<string, WebhookActivity> Activity { get; private set; } = new Dictionary<string, WebhookActivity>();

    public bool Filtered => Q is not null || Application is not null || Enabled is not null;

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (!User.CanRead())
        {
            return Denied();
        }

        Application = string.IsNullOrEmpty(Application) ? null : Application;
        EventSource = Application is null || string.IsNullOrEmpty(EventSource) ? null : EventSource;
        Q = string.IsNullOrWhiteSpace(Q) ? null : Q.Trim();
        Applications = (await Try(() => Api.ListApplications(limit: 500, cancellationToken: cancellation)))?.Items.Select(a => a.Name).ToList() ?? [];
        if (Application is not null)
        {
            EventSources = (await Try(() => Api.ListEventSources(Application, limit: 500, cancellationToken: cancellation)))?.Items.Select(e => e.Name).ToList() ?? [];
        }

        Found = await Try(() => Api.ListWebhooks(Application, EventSource, Enabled, After, PageSize, Q, cancellation));
        if (Found is { Items.Count: > 0 })
        {
            var activity = await Try(() => Api.GetWebhookActivity(string.Join(',', Found.Items.Select(w => w.Name)), cancellation));
            Activity = activity?.ToDictionary(a => a.Webhook, StringComparer.Ordinal) ?? [];
        }

        return Page();
    }

    /// <summary>The switch: enables or disables, and answers the switch as it now is (htmx swaps it in place).</summary>
    public async Task<IActionResult> OnPostSwitchAsync(string name, bool enabled, CancellationToken cancellation)
    {
        var changed = await Try(() => enabled
            ? Api.EnableWebhook(name, cancellationToken: cancellation)
            : Api.DisableWebhook(name, reason: "from the console's list", cancellationToken: cancellation));
        return Partial("_Switch", new SwitchModel(name, changed?.Enabled ?? !enabled, User.IsAdmin(), Problem?.Message));
    }

    public string PageUrl(string? after) => Links.With("/console/webhooks",
        ("q", Q), ("application", Application), ("eventSource", EventSource), ("enabled", Enabled?.ToString().ToLowerInvariant()), ("after", after));
}
