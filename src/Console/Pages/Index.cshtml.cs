using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console.Pages;

/// <summary>The landing page: deliveries over the last 24 hours, success rate, latency, the webhooks failing most.</summary>
public sealed class OverviewModel(ConsoleApi console) : ConsolePage(console)
{
    public DeliveryOverview? Overview { get; private set; }

    public async Task<Microsoft.AspNetCore.Mvc.IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (!User.CanRead())
        {
            // A keysafe-only key has nothing here: its console is KeySafe.
            return Redirect("/console/keysafe");
        }

        Overview = await Try(() => Api.GetDeliveryOverview(cancellationToken: cancellation));
        return Page();
    }
}
