using Microsoft.AspNetCore.Mvc;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console.Pages.Deliveries;

/// <summary>One delivery: every attempt (status, duration, the answer's excerpt, the headers sent with secrets redacted), its event, and Redeliver.</summary>
public sealed class DeliveryDetailModel(ConsoleApi console) : ConsolePage(console)
{
    public DeliveryView? Delivery { get; private set; }
    public bool Redelivered { get; private set; }

    /// <summary>The record the event carried: what the delivery sent, inside the webhook's payload.</summary>
    public System.Text.Json.JsonElement? Record { get; private set; }

    public async Task<IActionResult> OnGetAsync(bool redelivered, CancellationToken cancellation)
    {
        if (!User.CanRead())
        {
            return Denied();
        }

        Redelivered = redelivered;
        Delivery = await Try(() => Api.GetDelivery(RouteId, cancellation));
        if (Delivery is not null)
        {
            Record = (await Try(() => Api.GetEvent(Delivery.EventId, cancellation)))?.Record;
        }
        return Shown();
    }

    public async Task<IActionResult> OnPostRedeliverAsync(CancellationToken cancellation)
    {
        if (await Try(() => Api.Redeliver(RouteId, cancellation)) is not null)
        {
            return Redirect($"/console/deliveries/{RouteId}?redelivered=true");
        }

        var problem = Problem;
        var page = await OnGetAsync(false, cancellation);
        Problem = problem;
        return page;
    }

    /// <summary>The route's <c>{id:guid}</c>: always a GUID by then.</summary>
    public Guid RouteId => Guid.Parse((string)RouteData.Values["id"]!);
}
