using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Refit;

namespace Webhooks.Console.Pages;

/// <summary>
/// What a person sees when a console page fails: words, never a stack trace or JSON. A key the API no longer knows
/// (removed from the configuration since sign-in) ends the session instead.
/// </summary>
[IgnoreAntiforgeryToken]
public sealed class ErrorModel : PageModel
{
    public string Title { get; private set; } = "Something went wrong";
    public string Message { get; private set; } = "The console could not show this page. Nothing was changed by it that you did not see confirmed.";
    public string? TraceId { get; private set; }

    public Task<IActionResult> OnGetAsync() => Handle();

    public Task<IActionResult> OnPostAsync() => Handle();

    /// <summary>The API did not answer (refused, reset, timed out), however the SDK wrapped it.</summary>
    private static bool Unreachable(Exception failure)
    {
        for (var e = (Exception?)failure; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or System.Net.Sockets.SocketException or TimeoutException or TaskCanceledException)
            {
                return true;
            }
        }

        return false;
    }

    private async Task<IActionResult> Handle()
    {
        var failure = HttpContext.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (failure is null)
        {
            // Opened directly: there is nothing to explain.
            return Redirect(ConsoleModule.BasePath);
        }

        if (failure is ApiException { StatusCode: HttpStatusCode.Unauthorized })
        {
            await HttpContext.SignOutAsync(ConsoleModule.Scheme);
            var signIn = $"{ConsoleModule.BasePath}/sign-in?expired=1";
            if (Request.Headers.ContainsKey("HX-Request"))
            {
                Response.Headers["HX-Redirect"] = signIn;
                return new EmptyResult();
            }

            return Redirect(signIn);
        }

        TraceId = Activity.Current?.TraceId.ToString() ?? HttpContext.TraceIdentifier;
        switch (failure)
        {
            case ApiException refused:
                var problem = ConsoleProblem.From(refused);
                (Title, Message) = (problem.Title, problem.Message);
                Response.StatusCode = (int)refused.StatusCode is >= 400 and < 600 ? (int)refused.StatusCode : StatusCodes.Status502BadGateway;
                break;
            case var _ when Unreachable(failure):
                (Title, Message) = ("The API did not answer", "The console could not reach the Webhooks API. Try again in a moment; if it lasts, the host may be overloaded or restarting.");
                Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                break;
            default:
                Response.StatusCode = StatusCodes.Status500InternalServerError;
                break;
        }

        // A fragment for htmx (it swaps it where the answer was expected), the whole page otherwise.
        return Request.Headers.ContainsKey("HX-Request")
            ? Partial("_Problem", new ConsoleProblem(Title, Message, new Dictionary<string, string[]>(), (HttpStatusCode)Response.StatusCode))
            : Page();
    }
}
