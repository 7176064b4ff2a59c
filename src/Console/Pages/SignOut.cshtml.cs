using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Webhooks.Console.Pages;

/// <summary>Ends the session: the cookie is removed (POST with antiforgery only; a link cannot sign anyone out).</summary>
public sealed class SignOutModel : PageModel
{
    public IActionResult OnGet() => Redirect(ConsoleModule.BasePath);

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(ConsoleModule.Scheme);
        return Redirect($"{ConsoleModule.BasePath}/sign-in");
    }
}
