using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;
using Webhooks.BuildingBlocks;

namespace Webhooks.Host.Postgres;

/// <summary>
/// A private PostgreSQL cluster for development and tests, run from the PostgreSQL binaries on the machine:
/// initialised once in its data directory, started on a free loopback port with password authentication and no
/// Unix socket, and stopped with the host. When the process is root the server runs as the <c>postgres</c> user,
/// since PostgreSQL refuses to run as root.
/// </summary>
public sealed class EmbeddedPostgres
{
    public const string DatabaseName = "webhooks";
    private const string SuperUser = "webhooks";
    private const string PasswordFile = "webhooks-password";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private readonly string binDirectory;
    private readonly string? runAs;
    private int stopped;

    private EmbeddedPostgres(string dataDirectory, string binDirectory, string? runAs, int port, string password)
    {
        DataDirectory = dataDirectory;
        this.binDirectory = binDirectory;
        this.runAs = runAs;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = SuperUser,
            Password = password,
            Database = DatabaseName,
        }.ConnectionString;
    }

    public string DataDirectory { get; }
    public int Port { get; }
    public string ConnectionString { get; }

    /// <summary>The server's process id, read from its lock file; null when it is not running.</summary>
    public int? ServerProcessId => ReadLockFile(DataDirectory)?.Pid;

    /// <summary>
    /// Starts the cluster in <paramref name="dataDirectory"/>, creating it on first use. A server already running on
    /// that directory (a second host, or one left behind by a host that was killed) is used as it is. The port is a free
    /// loopback port unless <paramref name="port"/> asks for one (a server restarted where its clients expect it).
    /// </summary>
    public static EmbeddedPostgres Start(string dataDirectory, string? binDirectory = null, int? port = null)
    {
        dataDirectory = Path.GetFullPath(dataDirectory);
        var bin = PostgresBinaries.Find(binDirectory);
        var runAs = Environment.IsPrivilegedProcess ? PostgresBinaries.RequireServiceUser() : null;

        Directory.CreateDirectory(dataDirectory);
        if (runAs is not null)
        {
            Run("chown", [$"{runAs}:{runAs}", dataDirectory]);
            EnsureReachableBy(runAs, dataDirectory);
        }

        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            Initialise(bin, runAs, dataDirectory);
        }

        var password = File.ReadAllText(Path.Combine(dataDirectory, PasswordFile)).Trim();
        var running = ReadLockFile(dataDirectory);
        if (running is { } server && IsPostgres(server.Pid))
        {
            var reused = new EmbeddedPostgres(dataDirectory, bin, runAs, server.Port, password);
            reused.EnsureDatabase();
            return reused;
        }

        // A lock file whose process is gone, or whose pid now belongs to something else, is left by a crash:
        // PostgreSQL itself refuses to start over a pid that is alive, so remove it first.
        File.Delete(Path.Combine(dataDirectory, "postmaster.pid"));

        var listenOn = port ?? FreeLoopbackPort();
        var postgres = new EmbeddedPostgres(dataDirectory, bin, runAs, listenOn, password);
        postgres.PgCtl(
            "start", "-w", "-t", "60",
            "-l", Path.Combine(dataDirectory, "server.log"),
            "-o", $"-p {listenOn.ToString(CultureInfo.InvariantCulture)} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''");
        postgres.EnsureDatabase();
        return postgres;
    }

    /// <summary>Stops the server (fast shutdown: sessions are ended, data is safe). Safe to call more than once.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref stopped, 1) == 1 || ReadLockFile(DataDirectory) is null)
        {
            return;
        }

        PgCtl("stop", "-w", "-t", "60", "-m", "fast");
    }

    private void EnsureDatabase()
    {
        var admin = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Pooling = false };
        using var connection = new NpgsqlConnection(admin.ConnectionString);
        connection.Open();
        using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection)
        {
            Parameters = { new NpgsqlParameter { Value = DatabaseName } },
        };
        if (exists.ExecuteScalar() is null)
        {
            using var create = new NpgsqlCommand($"create database {DatabaseName}", connection);
            create.ExecuteNonQuery();
        }
    }

    private static void Initialise(string bin, string? runAs, string dataDirectory)
    {
        if (Directory.EnumerateFileSystemEntries(dataDirectory).Any())
        {
            throw new EmbeddedPostgresException(
                $"'{dataDirectory}' is not empty but holds no PostgreSQL cluster (no PG_VERSION). Point " +
                "Webhooks:EmbeddedPostgres:DataDirectory at an empty or new directory.");
        }

        // initdb wants the superuser's password in a file; it lives outside the (still empty) data directory
        // only while initdb runs, readable by the server's user alone.
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var passwordFile = Path.Combine(Path.GetTempPath(), $"webhooks-pw-{Guid.NewGuid():N}");
        WriteOwnerOnly(passwordFile, password);
        try
        {
            if (runAs is not null)
            {
                Run("chown", [runAs, passwordFile]);
            }

            Run(
                WithUser(runAs, Path.Combine(bin, "initdb")),
                [
                    "-D", dataDirectory, "-U", SuperUser, $"--pwfile={passwordFile}", "-E", "UTF8", "--locale=C",
                    "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                ]);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        var kept = Path.Combine(dataDirectory, PasswordFile);
        WriteOwnerOnly(kept, password);
        if (runAs is not null)
        {
            Run("chown", [$"{runAs}:{runAs}", kept]);
        }
    }

    private void PgCtl(params string[] arguments) =>
        Run(WithUser(runAs, Path.Combine(binDirectory, "pg_ctl")), ["-D", DataDirectory, .. arguments], detach: true,
            logFile: Path.Combine(DataDirectory, "server.log"));

    /// <summary>The command line that runs <paramref name="program"/> as <paramref name="user"/> (or as we are).</summary>
    private static string[] WithUser(string? user, string program) =>
        user is null ? [program] : ["runuser", "-u", user, "--", program];

    private static void Run(string program, string[] arguments) => Run([program], arguments);

    private static void Run(string[] command, string[] arguments, bool detach = false, string? logFile = null)
    {
        // The server is started in a session of its own (setsid) so that Ctrl-C in the terminal reaches the
        // host only; the host then stops the server after everything that uses it has shut down.
        string[] line = detach && File.Exists("/usr/bin/setsid") ? ["/usr/bin/setsid", "-w", .. command] : command;
        var start = new ProcessStartInfo(line[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in line.Skip(1).Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)
            ?? throw new EmbeddedPostgresException($"Could not start '{line[0]}'.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new EmbeddedPostgresException($"'{string.Join(' ', line)} {string.Join(' ', arguments)}' did not finish within {CommandTimeout}.");
        }

        if (process.ExitCode != 0)
        {
            var log = logFile is not null && File.Exists(logFile)
                ? "\nServer log (last lines):\n" + string.Join('\n', File.ReadLines(logFile).TakeLast(15))
                : "";
            throw new EmbeddedPostgresException(
                $"'{Path.GetFileName(command[^1])} {string.Join(' ', arguments)}' failed with exit code {process.ExitCode}:\n" +
                $"{output.Result}{error.Result}{log}");
        }
    }

    private static void EnsureReachableBy(string user, string directory)
    {
        try
        {
            Run(["runuser", "-u", user, "--", "test", "-w", directory, "-a", "-x", directory], []);
        }
        catch (EmbeddedPostgresException)
        {
            throw new EmbeddedPostgresException(
                $"The embedded PostgreSQL runs as the '{user}' user (the host runs as root), and '{user}' cannot " +
                $"reach '{directory}': a parent directory is closed to it. Set Webhooks:EmbeddedPostgres:DataDirectory " +
                "to a path it can reach (e.g. under /var/tmp), or set ConnectionStrings:Webhooks.");
        }
    }

    private static void WriteOwnerOnly(string path, string content)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new EmbeddedPostgresException("The embedded PostgreSQL runs on Linux and macOS; on Windows set ConnectionStrings:Webhooks.");
        }

        using (File.Create(path))
        {
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, content);
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsPostgres(int pid)
    {
        try
        {
            var name = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/comm").Trim();
            return name is "postgres" or "postmaster";
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static (int Pid, int Port)? ReadLockFile(string dataDirectory)
    {
        // postmaster.pid: line 1 the pid, line 4 the port (PostgreSQL's documented lock file layout).
        try
        {
            var lines = File.ReadAllLines(Path.Combine(dataDirectory, "postmaster.pid"));
            return lines.Length >= 4
                && int.TryParse(lines[0], CultureInfo.InvariantCulture, out var pid)
                && int.TryParse(lines[3], CultureInfo.InvariantCulture, out var port)
                ? (pid, port)
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

public sealed class EmbeddedPostgresException(string message) : StartupException(message);
