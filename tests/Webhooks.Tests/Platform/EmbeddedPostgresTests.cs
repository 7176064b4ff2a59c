using Npgsql;
using Webhooks.Host.Postgres;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

/// <summary>The embedded cluster's life: first start, reuse, restart with data kept, clean stop, crash leftovers.</summary>
public sealed class EmbeddedPostgresTests : IDisposable
{
    private readonly string directory = Repository.TempDirectory("pg-lifecycle");
    private readonly List<EmbeddedPostgres> started = [];

    private string DataDirectory => Path.Combine(directory, "data");

    [Fact]
    public async Task the_first_start_creates_a_cluster_with_the_webhooks_database_on_a_loopback_port()
    {
        var postgres = Start();

        File.Exists(Path.Combine(DataDirectory, "PG_VERSION")).ShouldBeTrue();
        (await Scalar(postgres, "select current_database()")).ShouldBe("webhooks");
        (await Scalar(postgres, "select inet_server_addr()::text")).ShouldBe("127.0.0.1/32");
    }

    [Fact]
    public async Task data_survives_a_stop_and_a_start_on_a_new_port()
    {
        var first = Start();
        await Execute(first, "create table kept (v text); insert into kept values ('still here')");
        first.Stop();

        var second = Start();

        (await Scalar(second, "select v from kept")).ShouldBe("still here");
    }

    [Fact]
    public void stopping_leaves_no_server_process_behind()
    {
        var postgres = Start();
        var pid = postgres.ServerProcessId!.Value;
        HostProcess.IsAlive(pid).ShouldBeTrue();

        postgres.Stop();

        HostProcess.IsAlive(pid).ShouldBeFalse();
        File.Exists(Path.Combine(DataDirectory, "postmaster.pid")).ShouldBeFalse();
        Should.NotThrow(postgres.Stop);
    }

    [Fact]
    public async Task a_server_already_running_on_the_directory_is_used_as_it_is()
    {
        var first = Start();
        var second = Start();

        second.Port.ShouldBe(first.Port);
        second.ServerProcessId.ShouldBe(first.ServerProcessId);
        (await Scalar(second, "select 1")).ShouldBe(1);
    }

    [Fact]
    public async Task a_stale_lock_file_left_by_a_crash_does_not_stop_the_next_start()
    {
        var first = Start();
        first.Stop();
        // A crash leaves postmaster.pid behind; its pid may since belong to another process (here: this one).
        await File.WriteAllLinesAsync(
            Path.Combine(DataDirectory, "postmaster.pid"),
            [Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), DataDirectory, "0", "1", "", "127.0.0.1", "0 0", "ready"]);

        var second = Start();

        (await Scalar(second, "select 1")).ShouldBe(1);
        second.ServerProcessId.ShouldNotBe(Environment.ProcessId);
    }

    [Fact]
    public void a_directory_with_other_content_is_refused_with_a_clear_message()
    {
        Directory.CreateDirectory(DataDirectory);
        File.WriteAllText(Path.Combine(DataDirectory, "notes.txt"), "mine");

        var refusal = Should.Throw<EmbeddedPostgresException>(Start);
        refusal.Message.ShouldContain("holds no PostgreSQL cluster");
    }

    [Fact]
    public void without_binaries_the_message_says_how_to_get_them_or_what_to_configure()
    {
        var refusal = Should.Throw<EmbeddedPostgresException>(() => PostgresBinaries.Find(null, () => []));

        refusal.Message.ShouldContain("apt-get install postgresql");
        refusal.Message.ShouldContain("ConnectionStrings:Webhooks");
    }

    [Fact]
    public void a_configured_bin_directory_without_binaries_is_named_in_the_error()
    {
        var refusal = Should.Throw<EmbeddedPostgresException>(() => PostgresBinaries.Find("/nonexistent/pg/bin"));
        refusal.Message.ShouldContain("/nonexistent/pg/bin");
    }

    public void Dispose()
    {
        foreach (var postgres in started)
        {
            postgres.Stop();
        }

        TestDatabase.TryDelete(directory);
    }

    private EmbeddedPostgres Start()
    {
        var postgres = EmbeddedPostgres.Start(DataDirectory);
        started.Add(postgres);
        return postgres;
    }

    private static async Task<object?> Scalar(EmbeddedPostgres postgres, string sql)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task Execute(EmbeddedPostgres postgres, string sql) => await Scalar(postgres, sql);
}
