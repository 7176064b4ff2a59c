using Microsoft.AspNetCore.Mvc;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console.Pages.Bins;

/// <summary>
/// Request bins (admin): Hornbill's RequestBin test without leaving the product. Create a bin, point a webhook at its
/// URL, press Test, and watch the request arrive.
/// </summary>
public sealed class BinListModel(ConsoleApi console) : ConsolePage(console)
{
    public IReadOnlyList<BinView> Bins { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (!User.IsAdmin())
        {
            return Denied();
        }

        Bins = (await Try(() => Api.ListBins(cancellation)))?.Items ?? [];
        return Page();
    }

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellation) =>
        await Try(() => Api.CreateBin(cancellation)) is { } bin ? Redirect($"/console/bins/{bin.Id}") : await Again(cancellation);

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, CancellationToken cancellation) =>
        await Try(() => Api.DeleteBin(id, cancellation)) ? Redirect("/console/bins") : await Again(cancellation);

    private async Task<IActionResult> Again(CancellationToken cancellation)
    {
        var problem = Problem;
        var page = await OnGetAsync(cancellation);
        Problem = problem;
        return page;
    }
}
