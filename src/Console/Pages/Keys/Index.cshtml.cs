using Microsoft.AspNetCore.Mvc;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.Console.Pages.Keys;

/// <summary>KeySafe's keys: names, types, usernames and origins; never a secret (the API has none to give).</summary>
public sealed class KeyListModel(ConsoleApi console) : ConsolePage(console)
{
    public const int PageSize = 100;

    [BindProperty(SupportsGet = true)] public string? After { get; set; }

    public IReadOnlyList<KeyView> Items { get; private set; } = [];
    public string? Next { get; private set; }
    public string? Deleted { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? deleted, CancellationToken cancellation)
    {
        if (!User.CanSeeKeys())
        {
            return Denied();
        }

        Deleted = deleted;
        var page = await Try(() => Api.ListKeys(string.IsNullOrEmpty(After) ? null : After, PageSize, cancellation));
        Items = page?.Items ?? [];
        Next = page?.Next;
        return Page();
    }
}
