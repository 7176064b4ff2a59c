using Microsoft.AspNetCore.Mvc;
using Webhooks.Contracts;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console.Pages.Deliveries;

/// <summary>
/// The auditor's page: every delivery, newest first, filtered by webhook, status, time range and event; the first page
/// polls for new ones (htmx), older pages stay still. Admins may also recover a webhook's failed deliveries.
/// </summary>
public sealed class DeliveryListModel(ConsoleApi console) : ConsolePage(console)
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? Webhook { get; set; }
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true)] public string? From { get; set; }
    [BindProperty(SupportsGet = true)] public string? To { get; set; }
    [BindProperty(SupportsGet = true)] public string? EventId { get; set; }
    [BindProperty(SupportsGet = true)] public string? After { get; set; }

    public IReadOnlyList<DeliveryView> Items { get; private set; } = [];
    public string? Next { get; private set; }
    public int? Recovered { get; private set; }

    public bool Filtered => Webhook is not null || Status is not null || From is not null || To is not null || EventId is not null;

    /// <summary>The first page's rows alone, for the poll.</summary>
    public string RowsUrl => PageUrl(null, "Rows");

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (!User.CanRead())
        {
            return Denied();
        }

        await Load(cancellation);
        return Page();
    }

    public async Task<IActionResult> OnGetRowsAsync(CancellationToken cancellation)
    {
        After = null;
        await Load(cancellation);
        return Problem is null ? Partial("_Rows", Items) : Partial("_Problem", Problem);
    }

    public async Task<IActionResult> OnPostRecoverAsync(string webhook, string? since, CancellationToken cancellation)
    {
        Webhook = webhook;
        if (Format.FromLocal(since) is not { } from)
        {
            Problem = new ConsoleProblem("Since when?", "Choose the moment from which failed deliveries are sent again.",
                new Dictionary<string, string[]>(), System.Net.HttpStatusCode.BadRequest);
        }
        else if (await Try(() => Api.RecoverWebhook(webhook, new RecoverWindow(from), cancellation)) is { } result)
        {
            Recovered = result.Redelivered;
        }

        var problem = Problem;
        await Load(cancellation);
        Problem ??= problem;
        return Page();
    }

    public string PageUrl(string? after, string? handler = null) => Links.With("/console/deliveries",
        ("handler", handler), ("webhook", Webhook), ("status", Status), ("from", From), ("to", To), ("eventId", EventId), ("after", after));

    private async Task Load(CancellationToken cancellation)
    {
        Webhook = Blank(Webhook);
        Status = Blank(Status);
        From = Blank(From);
        To = Blank(To);
        EventId = Blank(EventId);
        After = Blank(After);
        Guid? eventId = null;
        if (EventId is not null)
        {
            if (!Guid.TryParse(EventId, out var id))
            {
                Problem = new ConsoleProblem("Not an event id", $"\"{EventId}\" is not an event id (a GUID, as in the publish answer's eventId).",
                    new Dictionary<string, string[]> { ["eventId"] = ["Not a GUID."] }, System.Net.HttpStatusCode.BadRequest);
                return;
            }

            eventId = id;
        }

        var page = await Try(() => Api.ListDeliveries(Webhook, Status, eventId, Format.FromLocal(From), Format.FromLocal(To), After, PageSize, cancellation));
        Items = page?.Items ?? [];
        Next = page?.Next;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
