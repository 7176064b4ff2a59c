using Microsoft.AspNetCore.Mvc;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console.Pages.Bins;

/// <summary>One bin: its URL, and what it captured, newest first, appearing as it arrives (htmx polls the list).</summary>
public sealed class BinDetailModel(ConsoleApi console) : ConsolePage(console)
{
    public Guid Id => Guid.Parse((string)RouteData.Values["id"]!);

    public BinView? Bin { get; private set; }
    public IReadOnlyList<CapturedRequestView> Requests { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (!User.IsAdmin())
        {
            return Denied();
        }

        Bin = (await Try(() => Api.ListBins(cancellation)))?.Items.FirstOrDefault(b => b.Id == Id);
        if (Bin is null)
        {
            Problem ??= new ConsoleProblem("Not found", $"There is no request bin {Id} (bins expire).", new Dictionary<string, string[]>(), System.Net.HttpStatusCode.NotFound);
            return Shown();
        }

        Requests = (await Try(() => Api.ListBinRequests(Id, cancellationToken: cancellation)))?.Items ?? [];
        return Page();
    }

    public async Task<IActionResult> OnGetRequestsAsync(CancellationToken cancellation)
    {
        Requests = (await Try(() => Api.ListBinRequests(Id, cancellationToken: cancellation)))?.Items ?? [];
        return Problem is null ? Partial("_Requests", Requests) : Partial("_Problem", Problem);
    }
}
