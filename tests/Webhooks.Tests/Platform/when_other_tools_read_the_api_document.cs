using Alba;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

/// <summary>
/// Issue 16: the OpenAPI document is usable by other tools, checked with those tools. Spectral (npm, pinned in
/// tools/spectral) lints it with its OpenAPI rules and the project's own (.spectral.yaml: camelCase operation ids,
/// summaries, descriptions, tags, problem answers, 401) and any error fails; Kiota (a .NET tool pinned in
/// .config/dotnet-tools.json) generates a C# client from it, which must compile.
/// </summary>
public sealed class when_other_tools_read_the_api_document(AppFixture fixture) : AppTest(fixture)
{
    private async Task<string> Document()
    {
        var result = await Host.Scenario(s =>
        {
            s.Get.Url("/openapi/v1.json");
            s.StatusCodeShouldBeOk();
        });
        var path = Path.Combine(Repository.TempDirectory("openapi"), "openapi.json");
        await File.WriteAllTextAsync(path, await result.ReadAsTextAsync());
        return path;
    }

    [Fact]
    public async Task the_openapi_document_passes_spectral()
    {
        var document = await Document();
        var tools = Path.Combine(Repository.Root, "tools", "spectral");
        var spectral = Path.Combine(tools, "node_modules", ".bin", "spectral");
        if (!File.Exists(spectral))
        {
            // Node.js and npm from the machine (.ci/run installs Debian's when missing); Spectral as pinned by the lock file.
            var install = await Tools.Run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], tools, TimeSpan.FromMinutes(5));
            install.ExitCode.ShouldBe(0, $"npm ci in tools/spectral failed (Node.js and npm are needed):\n{install.Output}");
        }

        var lint = await Tools.Run(spectral, ["lint", document, "--ruleset", Path.Combine(Repository.Root, ".spectral.yaml"), "--fail-severity", "error"],
            Repository.Root, TimeSpan.FromMinutes(2));

        lint.ExitCode.ShouldBe(0, lint.Output);
        lint.Output.ShouldContain("0 errors");
    }

    [Fact]
    public async Task a_client_generated_from_it_by_kiota_compiles()
    {
        var document = await Document();
        var project = Repository.TempDirectory("kiota-client");
        var restore = await Tools.Run("dotnet", ["tool", "restore"], Repository.Root, TimeSpan.FromMinutes(3));
        restore.ExitCode.ShouldBe(0, restore.Output);

        var generate = await Tools.Run("dotnet", ["kiota", "generate", "-l", "CSharp", "-d", document, "-o", Path.Combine(project, "Client"),
            "-c", "WebhooksApiClient", "-n", "Webhooks.Generated", "--log-level", "Warning"], Repository.Root, TimeSpan.FromMinutes(2));
        generate.ExitCode.ShouldBe(0, generate.Output);
        Directory.GetFiles(Path.Combine(project, "Client"), "*.cs", SearchOption.AllDirectories).Length.ShouldBeGreaterThan(50);

        await File.WriteAllTextAsync(Path.Combine(project, "Generated.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.Kiota.Abstractions" Version="2.1.6" />
                <PackageReference Include="Microsoft.Kiota.Http.HttpClientLibrary" Version="2.1.6" />
                <PackageReference Include="Microsoft.Kiota.Serialization.Json" Version="2.1.6" />
                <PackageReference Include="Microsoft.Kiota.Serialization.Text" Version="2.1.6" />
                <PackageReference Include="Microsoft.Kiota.Serialization.Form" Version="2.1.6" />
                <PackageReference Include="Microsoft.Kiota.Serialization.Multipart" Version="2.1.6" />
              </ItemGroup>
            </Project>
            """);
        // Outside the repository: its central package management and analyzers are not the generated client's.
        var build = await Tools.Run("dotnet", ["build", "-nologo", "-v", "q", "--disable-build-servers"], project, TimeSpan.FromMinutes(5));

        build.ExitCode.ShouldBe(0, build.Output);
        File.Exists(Path.Combine(project, "bin", "Debug", "net10.0", "Generated.dll")).ShouldBeTrue();
        Directory.Delete(project, recursive: true);
    }
}
