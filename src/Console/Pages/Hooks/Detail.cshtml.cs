using Microsoft.AspNetCore.Mvc;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console.Pages.Hooks;

/// <summary>The signing secret, shown on demand (never in the page until asked).</summary>
public sealed record SecretModel(string Webhook, SigningSecretView? Secret, string? Problem);

/// <summary>
/// A webhook: its definition (or, with <c>asOf</c>, as it was then: time travel from its events), its history with
/// who changed what, its statistics and recent deliveries, and for admins: test, enable or disable, signing secret.
/// </summary>
public sealed class WebhookDetailModel(ConsoleApi console) : ConsolePage(console)
{
    public string Name => (string)RouteData.Values["name"]!;

    public WebhookDefinition? Webhook { get; private set; }
    public long CurrentVersion { get; private set; }
    public DateTimeOffset? AsOf { get; private set; }
    public string? KeyName { get; private set; }
    public WebhookStats? Stats { get; private set; }
    public IReadOnlyList<DeliveryView> Recent { get; private set; } = [];
    public IReadOnlyList<WebhookChange> History { get; private set; } = [];

    /// <summary>KeySafe keys by id: the history names the keys a webhook used, not their ids.</summary>
    public IReadOnlyDictionary<Guid, string> KeyNames { get; private set; } = new Dictionary<Guid, string>();
    public bool Saved { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? asOf, bool saved, CancellationToken cancellation)
    {
        if (!User.CanRead())
        {
            return Denied();
        }

        Saved = saved;
        var current = await Try(() => Api.GetWebhook(Name, cancellationToken: cancellation));
        if (current is null)
        {
            return Shown();
        }

        CurrentVersion = current.Version;
        AsOf = Format.FromLocal(asOf) ?? (DateTimeOffset.TryParse(asOf, System.Globalization.CultureInfo.InvariantCulture, out var iso) ? iso : null);
        Webhook = AsOf is { } then ? await Try(() => Api.GetWebhook(Name, then, cancellation)) : current;
        var keys = await Try(() => Api.ListKeys(limit: 500, cancellationToken: cancellation));
        KeyNames = keys?.Items.ToDictionary(k => k.Id, k => k.Name) ?? [];
        if (Webhook?.AuthenticationKeyId is { } keyId)
        {
            KeyName = KeyNames.GetValueOrDefault(keyId) ?? $"a deleted key ({keyId})";
        }

        Stats = await Try(() => Api.GetWebhookStats(Name, series: true, cancellationToken: cancellation));
        Recent = (await Try(() => Api.ListDeliveries(webhook: Name, limit: 10, cancellationToken: cancellation)))?.Items ?? [];
        History = (await Try(() => Api.GetWebhookHistory(Name, limit: 500, cancellationToken: cancellation)))?.Items ?? [];
        return Page();
    }

    public async Task<IActionResult> OnPostTestAsync(CancellationToken cancellation)
    {
        var result = await Try(() => Api.TestWebhook(Name, cancellation));
        if (result is not null)
        {
            // The recent deliveries below show the test's delivery at once.
            Response.Headers["HX-Trigger"] = "deliveries-changed";
        }

        return Partial("_TestResult", (result, Problem));
    }

    /// <summary>The recent deliveries alone (htmx swaps them in after a test).</summary>
    public async Task<IActionResult> OnGetRecentAsync(CancellationToken cancellation)
    {
        var recent = await Try(() => Api.ListDeliveries(webhook: Name, limit: 10, cancellationToken: cancellation));
        return recent is null ? Partial("_Problem", Problem) : Partial("/Pages/Deliveries/_Rows.cshtml", recent.Items);
    }

    public async Task<IActionResult> OnGetSecretAsync(CancellationToken cancellation)
    {
        var secret = await Try(() => Api.GetSigningSecret(Name, cancellation));
        return Partial("_Secret", new SecretModel(Name, secret, Problem?.Message));
    }

    public async Task<IActionResult> OnPostRotateAsync(CancellationToken cancellation)
    {
        var secret = await Try(() => Api.RotateSigningSecret(Name, cancellation));
        return Partial("_Secret", new SecretModel(Name, secret, Problem?.Message));
    }

    /// <summary>Enables; <paramref name="pending"/> says what becomes of the deliveries kept while it was disabled (resume or fail).</summary>
    public async Task<IActionResult> OnPostEnableAsync(string? pending, CancellationToken cancellation) =>
        await Then(Try(() => Api.EnableWebhook(Name, pending: pending is "fail" ? "fail" : "resume", cancellationToken: cancellation)));

    public async Task<IActionResult> OnPostDisableAsync(CancellationToken cancellation) =>
        await Then(Try(() => Api.DisableWebhook(Name, reason: "from the console", cancellationToken: cancellation)));

    public async Task<IActionResult> OnPostDeleteAsync(CancellationToken cancellation) =>
        await Try(() => Api.DeleteWebhook(Name, cancellationToken: cancellation))
            ? Redirect("/console/webhooks")
            : await OnGetAsync(null, false, cancellation);

    private async Task<IActionResult> Then(Task<WebhookDefinition?> change)
    {
        var changed = await change;
        if (changed is null)
        {
            var problem = Problem;
            var page = await OnGetAsync(null, false, CancellationToken.None);
            Problem = problem;
            return page;
        }

        return Redirect($"/console/webhooks/{Uri.EscapeDataString(Name)}");
    }
}
