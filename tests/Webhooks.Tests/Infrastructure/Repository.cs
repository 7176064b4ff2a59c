namespace Webhooks.Tests.Infrastructure;

/// <summary>Paths in this repository, found from the test's output directory.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string HostOutputDirectory =>
        Path.Combine(Root, "src", "Host", "bin", BuildConfiguration, "net10.0");

    public static string HostDll => Path.Combine(HostOutputDirectory, "Webhooks.Host.dll");

#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Webhooks.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Webhooks.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>A fresh directory under the system's temp directory, which the postgres user can reach too.</summary>
    public static string TempDirectory(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), $"webhooks-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}
