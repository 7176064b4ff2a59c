using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Refit;
using Webhooks.Client;

namespace Webhooks.Console.Pages;

/// <summary>What every console page shares: the API as the signed-in key, and its refusals kept for the page to show.</summary>
public abstract class ConsolePage(ConsoleApi console) : PageModel
{
    protected IWebhooksApi Api => console.Api;

    /// <summary>The API's refusal of the last call made through <see cref="Try{T}"/>, for the page to show.</summary>
    public ConsoleProblem? Problem { get; protected set; }

    /// <summary>
    /// The page, answered with the API's 404 when what it shows does not exist (the page says so in words): a
    /// bookmark to a deleted webhook is a "not found" for the browser too.
    /// </summary>
    protected PageResult Shown()
    {
        if (Problem?.Status == System.Net.HttpStatusCode.NotFound)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }

        return Page();
    }

    /// <summary>
    /// Refuses a page the key's roles do not cover, on the console's own sign-in (the API's scheme would answer JSON):
    /// the browser lands on a page that says which roles the key has.
    /// </summary>
    protected IActionResult Denied() => Forbid(ConsoleModule.Scheme);

    /// <summary>Runs an API call; a refusal becomes <see cref="Problem"/> and the result null.</summary>
    protected async Task<T?> Try<T>(Func<Task<T>> call)
        where T : class
    {
        try
        {
            return await call();
        }
        catch (ApiException refused) when (refused.StatusCode != System.Net.HttpStatusCode.Unauthorized)
        {
            // (A 401 means the signed-in key is no longer valid: the error page signs out.)
            Problem = ConsoleProblem.From(refused);
            return null;
        }
    }

    /// <summary>Runs an API call that answers nothing; false (and <see cref="Problem"/>) when refused.</summary>
    protected async Task<bool> Try(Func<Task> call)
    {
        try
        {
            await call();
            return true;
        }
        catch (ApiException refused) when (refused.StatusCode != System.Net.HttpStatusCode.Unauthorized)
        {
            Problem = ConsoleProblem.From(refused);
            return false;
        }
    }
}
