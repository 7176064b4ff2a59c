using System.Diagnostics;

namespace Webhooks.Host.Postgres;

/// <summary>Finds the PostgreSQL server binaries (initdb, pg_ctl) the way ARCHITECTURE.md lists.</summary>
public static class PostgresBinaries
{
    public const string ServiceUser = "postgres";

    public static string Find(string? configured) => Find(configured, SearchedDirectories);

    internal static string Find(string? configured, Func<IEnumerable<string>> searched)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return HasServerBinaries(configured) ? configured : throw new EmbeddedPostgresException(
                $"Webhooks:EmbeddedPostgres:BinDirectory is '{configured}', but it holds no initdb and pg_ctl. Point it at " +
                "the directory of the PostgreSQL server binaries ('pg_config --bindir' tells), or remove it to search the usual places.");
        }

        var found = searched().FirstOrDefault(HasServerBinaries);
        return found ?? throw new EmbeddedPostgresException(
            "No PostgreSQL server binaries (initdb, pg_ctl) were found: not on PATH, not from 'pg_config --bindir', not under /usr/lib/postgresql/*/bin. Either install them " +
            "(Debian/Ubuntu: 'sudo apt-get install postgresql'; macOS: 'brew install postgresql') or point the host at " +
            "an existing database with ConnectionStrings:Webhooks (e.g. ConnectionStrings__Webhooks=\"Host=...;" +
            "Database=webhooks;Username=...;Password=...\").");
    }

    /// <summary>When the host runs as root, the server must run as the 'postgres' user; it must exist.</summary>
    public static string RequireServiceUser()
    {
        var exists = File.Exists("/etc/passwd")
            && File.ReadLines("/etc/passwd").Any(line => line.StartsWith(ServiceUser + ":", StringComparison.Ordinal));
        return exists ? ServiceUser : throw new EmbeddedPostgresException(
            "The host runs as root and PostgreSQL refuses to run as root, but there is no 'postgres' user to run it " +
            "as. Create one ('useradd --system postgres'), run the host as an ordinary user, or set ConnectionStrings:Webhooks.");
    }

    private static IEnumerable<string> SearchedDirectories()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var initdb = Path.Combine(directory, "initdb");
            if (File.Exists(initdb))
            {
                // Distribution wrappers put links on PATH; the real binaries sit together where the link points.
                var target = File.ResolveLinkTarget(initdb, returnFinalTarget: true)?.FullName ?? initdb;
                yield return Path.GetDirectoryName(target)!;
            }
        }

        if (PgConfigBinDirectory() is { } fromPgConfig)
        {
            yield return fromPgConfig;
        }

        const string debian = "/usr/lib/postgresql";
        if (Directory.Exists(debian))
        {
            foreach (var version in Directory.GetDirectories(debian)
                         .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            {
                yield return Path.Combine(version, "bin");
            }
        }
    }

    private static bool HasServerBinaries(string directory) =>
        File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"));

    private static string? PgConfigBinDirectory()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            return process.WaitForExit(TimeSpan.FromSeconds(5)) && process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
