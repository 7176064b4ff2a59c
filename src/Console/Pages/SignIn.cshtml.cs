using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Refit;
using Webhooks.Contracts;

namespace Webhooks.Console.Pages;

/// <summary>
/// Sign-in: the key is asked who it is (GET /me) and kept in the encrypted sign-in cookie, never written into a page.
/// A key that can only publish is refused: the console is for the people who configure and audit.
/// </summary>
public sealed class SignInModel(ConsoleApi console) : PageModel
{
    public string? Problem { get; private set; }

    public bool Expired { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet() => Expired = Request.Query.ContainsKey("expired");

    public async Task<IActionResult> OnPostAsync(string? apiKey, CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(apiKey))
        {
            Problem = "Enter an API key.";
            return Page();
        }

        CallerView me;
        try
        {
            me = await console.For(apiKey.Trim()).GetMe(cancellation);
        }
        catch (ApiException refused) when (refused.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            Problem = "That API key is not known. Check it and try again.";
            return Page();
        }

        if (!me.Roles.Any(r => r is Roles.Admin or Roles.Auditor or Roles.KeySafe))
        {
            Problem = "This API key can only publish events, which is done through the API, not here. The console is for keys " +
                "with the admin, auditor or keysafe role.";
            return Page();
        }

        var identity = new ClaimsIdentity(ConsoleModule.Scheme, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.Name, me.Name));
        identity.AddClaims(me.Roles.Select(role => new Claim(ClaimTypes.Role, role)));
        identity.AddClaim(new Claim(ConsoleApi.KeyClaim, apiKey.Trim()));
        await HttpContext.SignInAsync(ConsoleModule.Scheme, new ClaimsPrincipal(identity));
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) && ReturnUrl!.StartsWith(ConsoleModule.BasePath, StringComparison.Ordinal)
            ? ReturnUrl
            : me.Roles.Any(r => r is Roles.Admin or Roles.Auditor) ? ConsoleModule.BasePath : $"{ConsoleModule.BasePath}/keysafe");
    }
}
