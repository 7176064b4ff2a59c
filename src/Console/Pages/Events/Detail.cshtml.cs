using Microsoft.AspNetCore.Mvc;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console.Pages.Events;

/// <summary>A published event: its record, its verdict (accepted, allowed, or rejected with the veto's text) and all its deliveries.</summary>
public sealed class EventDetailModel(ConsoleApi console) : ConsolePage(console)
{
    public EventView? Event { get; private set; }

    /// <summary>The Synchronous Critical deliveries that failed: they are why an event was rejected, and their reason is the veto's text.</summary>
    public IEnumerable<DeliveryView> Vetoes =>
        Event?.Deliveries.Where(d => d.PostMode == PostModes.SyncCritical && d.Status == DeliveryStatuses.Failed) ?? [];

    public async Task<IActionResult> OnGetAsync(Guid eventId, CancellationToken cancellation)
    {
        if (!User.CanRead())
        {
            return Denied();
        }

        Event = await Try(() => Api.GetEvent(eventId, cancellation));
        return Shown();
    }
}
