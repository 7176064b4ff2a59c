using System.Diagnostics;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

/// <summary>
/// The host runs Wolverine's pre-generated handler code (TypeLoadMode.Static). Code that no longer matches the
/// endpoints would run silently stale (a new Validate method never called), so this regenerates it into a temporary
/// directory and compares it with what is committed.
/// </summary>
public sealed class GeneratedCodeTests : IDisposable
{
    private readonly string directory = Repository.TempDirectory("codegen");

    [Fact]
    public async Task the_committed_generated_code_matches_the_endpoints_and_handlers()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            ArgumentList = { Repository.HostDll, "codegen", "write" },
            Environment =
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["ConnectionStrings__Webhooks"] = await TestDatabase.Fresh("codegen"),
                ["Webhooks__GeneratedCodePath"] = directory,
            },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token);
        process.ExitCode.ShouldBe(0, await output + await error);

        var committed = Path.Combine(Repository.Root, "src", "Host", "Internal", "Generated");
        var expected = Files(directory);
        var actual = Files(committed);

        actual.Keys.ShouldBe(expected.Keys, ignoreOrder: true,
            "regenerate with: dotnet run --project src/Host -- codegen write");
        foreach (var (file, content) in expected)
        {
            actual[file].ShouldBe(content, $"{file} is stale; regenerate with: dotnet run --project src/Host -- codegen write");
        }
    }

    public void Dispose() => TestDatabase.TryDelete(directory);

    private static Dictionary<string, string> Files(string root) =>
        Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => File.ReadAllText(f).ReplaceLineEndings());
}
