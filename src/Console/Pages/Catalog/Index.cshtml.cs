using Microsoft.AspNetCore.Mvc;
using Webhooks.Definitions.Contracts;

namespace Webhooks.Console.Pages.Catalog;

/// <summary>The catalog: the applications that publish events, and for the chosen one its event sources with sample records.</summary>
public sealed class CatalogModel(ConsoleApi console) : ConsolePage(console)
{
    [BindProperty(SupportsGet = true)] public string? Application { get; set; }

    public IReadOnlyList<ApplicationView> Applications { get; private set; } = [];
    public IReadOnlyList<EventSourceView> EventSources { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (!User.CanRead())
        {
            return Denied();
        }

        Applications = (await Try(() => Api.ListApplications(limit: 500, cancellationToken: cancellation)))?.Items ?? [];
        Application = Applications.FirstOrDefault(a => a.Name == Application)?.Name ?? (Applications.Count > 0 ? Applications[0].Name : null);
        if (Application is not null)
        {
            EventSources = (await Try(() => Api.ListEventSources(Application, limit: 500, cancellationToken: cancellation)))?.Items ?? [];
        }

        return Page();
    }
}
