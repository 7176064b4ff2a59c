using Microsoft.AspNetCore.Mvc;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.Console.Pages.Keys;

/// <summary>What the new-key form holds. The password goes to the API and nowhere else: never back into a page.</summary>
public sealed class KeyForm
{
    public string? Name { get; set; }
    public string? Description { get; set; }
    public string Type { get; set; } = KeyTypes.HttpBasic;
    public string? Username { get; set; }
    public string? Password { get; set; }
    public string? AllowedOrigins { get; set; }
}

/// <summary>Creates a KeySafe key (keysafe role).</summary>
public sealed class NewKeyModel(ConsoleApi console) : ConsolePage(console)
{
    [BindProperty]
    public KeyForm Form { get; set; } = new();

    public IActionResult OnGet() => User.CanManageKeys() ? Page() : Denied();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellation)
    {
        var created = await Try(() => Api.CreateKey(
            new CreateKey(Form.Name?.Trim(), Form.Type, string.IsNullOrWhiteSpace(Form.Description) ? null : Form.Description, Form.Username,
                Form.Password, Format.Lines(Form.AllowedOrigins)),
            cancellation));
        if (created is not null)
        {
            return Redirect($"/console/keysafe/{created.Id}?done=created");
        }

        Form.Password = null;
        return Page();
    }
}
