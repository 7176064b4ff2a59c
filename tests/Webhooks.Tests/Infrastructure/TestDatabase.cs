using Npgsql;
using Webhooks.Host.Postgres;

namespace Webhooks.Tests.Infrastructure;

/// <summary>
/// The database the tests run on: <c>WEBHOOKS_TEST_CONNECTION</c> when set, else one embedded PostgreSQL cluster
/// for this test run (the host's own mechanism), in a temporary directory removed when the run ends.
/// </summary>
public static class TestDatabase
{
    private static readonly Lazy<string> Connection = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string ConnectionString => Connection.Value;

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable("WEBHOOKS_TEST_CONNECTION") is { Length: > 0 } configured)
        {
            return configured;
        }

        SweepLeftovers();
        var directory = Repository.TempDirectory("tests-pg");
        var postgres = EmbeddedPostgres.Start(Path.Combine(directory, "data"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            postgres.Stop();
            TryDelete(directory);
        };
        return postgres.ConnectionString;
    }

    /// <summary>
    /// A new, empty database on the test cluster, for a host that must not create its schema in the shared database
    /// while the shared test host does (two hosts migrating one schema at once conflict).
    /// </summary>
    public static async Task<string> Fresh(string purpose)
    {
        var database = $"{purpose}_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {database}", admin);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString;
    }

    /// <summary>
    /// The test host process may be ended before its exit handlers finish deleting; earlier runs' directories
    /// whose server is no longer running are removed here instead.
    /// </summary>
    private static void SweepLeftovers()
    {
        foreach (var leftover in Directory.EnumerateDirectories(Path.GetTempPath(), "webhooks-*"))
        {
            try
            {
                // Tests running beside this one create and delete such directories at any moment: look only at old
                // ones, and let one that vanishes meanwhile go.
                if (Directory.GetCreationTimeUtc(leftover) < DateTime.UtcNow.AddMinutes(-10)
                    && !Directory.EnumerateFiles(leftover, "postmaster.pid", SearchOption.AllDirectories).Any())
                {
                    TryDelete(leftover);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless; the OS cleans /tmp.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
