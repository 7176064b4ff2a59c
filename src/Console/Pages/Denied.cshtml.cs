using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Webhooks.Console.Pages;

/// <summary>Where a page the key's roles do not cover sends the browser: a 403 that says which roles the key has.</summary>
public sealed class DeniedModel : PageModel
{
    public void OnGet() => Response.StatusCode = StatusCodes.Status403Forbidden;
}
