using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Webhooks.Console.Pages;

/// <summary>Any other path under /console: a 404 in words (every more specific page route wins over this one).</summary>
public sealed class MissingModel : PageModel
{
    public void OnGet() => Response.StatusCode = StatusCodes.Status404NotFound;
}
