using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

/// <summary>
/// Issue 16: the SDK packs as one NuGet package (<c>dotnet pack src/Client</c>): the client and the contracts it
/// speaks in, with their XML documentation and a README of its own, depending on Refit only; and the README's example,
/// compiled against the package in a project of its own, builds.
/// </summary>
// With the shared host's tests, not beside them: it loads both cores for a while, and their deliveries wait 15 s at most.
[Collection(SharedHost.Name)]
public sealed partial class when_packing_the_sdk : IDisposable
{
    private readonly string directory = Repository.TempDirectory("sdk-pack");

    [Fact]
    public async Task the_package_holds_the_client_the_contracts_their_docs_and_a_readme_and_its_example_builds()
    {
        var feed = Path.Combine(directory, "feed");
        // Its own artifacts path: the repository's bin and obj are left to the build that runs the tests.
        var pack = await Tools.Run("dotnet", ["pack", Path.Combine(Repository.Root, "src", "Client"), "--artifacts-path", Path.Combine(directory, "artifacts"),
            "-o", feed, "-nologo", "-v", "q", "--disable-build-servers"], Repository.Root, TimeSpan.FromMinutes(5));
        pack.ExitCode.ShouldBe(0, pack.Output);

        var package = Directory.GetFiles(feed, "Webhooks.Client.*.nupkg").Single(p => !p.EndsWith(".snupkg", StringComparison.Ordinal));
        using (var zip = ZipFile.OpenRead(package))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            foreach (var assembly in new[] { "Webhooks.Client", "Webhooks.Contracts", "Webhooks.Definitions.Contracts", "Webhooks.Dispatch.Contracts", "Webhooks.KeySafe.Contracts" })
            {
                entries.ShouldContain($"lib/net10.0/{assembly}.dll");
                entries.ShouldContain($"lib/net10.0/{assembly}.xml");
            }

            entries.ShouldContain("README.md");
            await using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
            var metadata = XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).ShouldBe(["Refit"]);
            metadata.Elements().Single(e => e.Name.LocalName == "readme").Value.ShouldBe("README.md");
        }

        // The README's first example, as a program of its own against the package (restored from the feed, Refit from
        // the machine's package cache, into a cache of its own so that no earlier package of the same version is taken).
        var readme = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "src", "Client", "README.md"));
        var example = CSharpBlock().Match(readme).Groups[1].Value;
        example.ShouldContain("WebhooksClient.Create");
        var consumer = Path.Combine(directory, "consumer");
        Directory.CreateDirectory(consumer);
        await File.WriteAllTextAsync(Path.Combine(consumer, "Program.cs"), example);
        var version = Path.GetFileNameWithoutExtension(package)["Webhooks.Client.".Length..];
        await File.WriteAllTextAsync(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <RestorePackagesPath>{Path.Combine(directory, "packages")}</RestorePackagesPath>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Webhooks.Client" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        await File.WriteAllTextAsync(Path.Combine(consumer, "nuget.config"), $"""
            <configuration>
              <packageSources>
                <clear />
                <add key="feed" value="{feed}" />
                <add key="machine" value="{cache}" />
              </packageSources>
            </configuration>
            """);

        var build = await Tools.Run("dotnet", ["build", "-nologo", "-v", "q", "--disable-build-servers"], consumer, TimeSpan.FromMinutes(5));
        build.ExitCode.ShouldBe(0, build.Output);
    }

    [GeneratedRegex("```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
