using System.Diagnostics;

namespace Webhooks.Tests.Infrastructure;

/// <summary>Other people's tools run by the tests (npm, dotnet pack and build, Kiota): their exit code and output.</summary>
public static class Tools
{
    /// <summary>Runs <paramref name="program"/>; past <paramref name="timeout"/> it is killed with its children and the test fails.</summary>
    public static async Task<(int ExitCode, string Output)> Run(string program, string[] arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["KIOTA_TUTORIAL_ENABLED"] = "false";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not end within {timeout}.");
        }

        return (process.ExitCode, await output + await error);
    }
}
