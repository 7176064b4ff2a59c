using Microsoft.AspNetCore.Mvc;
using Webhooks.Contracts;

namespace Webhooks.Console.Pages.Audit;

/// <summary>Every configuration change across modules, newest first, filterable; each linked to what it changed.</summary>
public sealed class AuditLogModel(ConsoleApi console) : ConsolePage(console)
{
    public const int PageSize = 100;

    [BindProperty(SupportsGet = true)] public string? From { get; set; }
    [BindProperty(SupportsGet = true)] public string? To { get; set; }
    [BindProperty(SupportsGet = true)] public string? Module { get; set; }
    [BindProperty(SupportsGet = true)] public Guid? SubjectId { get; set; }
    [BindProperty(SupportsGet = true)] public string? After { get; set; }

    public IReadOnlyList<AuditEntry> Items { get; private set; } = [];
    public string? Next { get; private set; }

    public bool Filtered => From is not null || To is not null || Module is not null || SubjectId is not null;

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (!User.CanRead())
        {
            return Denied();
        }

        From = string.IsNullOrWhiteSpace(From) ? null : From;
        To = string.IsNullOrWhiteSpace(To) ? null : To;
        Module = string.IsNullOrWhiteSpace(Module) ? null : Module;
        var page = await Try(() => Api.GetAuditLog(
            Format.FromLocal(From), Format.FromLocal(To), string.IsNullOrEmpty(After) ? null : After, PageSize, Module, SubjectId, cancellation));
        Items = page?.Items ?? [];
        Next = page?.Next;
        return Page();
    }

    /// <summary>Where an entry's subject lives in the console.</summary>
    public static string? Link(AuditEntry entry) => entry.Subject switch
    {
        "webhook" when entry.Name is { } name => $"/console/webhooks/{Uri.EscapeDataString(name)}",
        "key" => $"/console/keysafe/{entry.SubjectId}",
        "eventSource" when entry.Name?.Split('/', 2) is [var application, _] => $"/console/catalog?application={Uri.EscapeDataString(application)}",
        _ => null,
    };

    public static string Subject(string subject) => subject switch
    {
        "webhook" => "Webhook",
        "key" => "Key",
        "eventSource" => "Event source",
        _ => subject,
    };

    public string PageUrl(string? after, Guid? subjectId = null) => Links.With("/console/audit",
        ("from", From), ("to", To), ("module", Module), ("subjectId", (subjectId ?? SubjectId)?.ToString()), ("after", after));
}
