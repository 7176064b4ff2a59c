using System.Diagnostics;
using System.Globalization;
using Npgsql;

/// <summary>
/// What a stretch of work cost, read before and after it: CPU seconds of the host, of PostgreSQL (the postmaster, its
/// live backends, and the children it has reaped) and of this process (the load generator and the receiver), from
/// <c>/proc</c>; and from PostgreSQL itself the statements executed (<c>pg_stat_statements</c>), the transactions
/// committed and the WAL written (<c>pg_stat_wal</c>); and the round trips to PostgreSQL, counted from above: the
/// segments carrying data that its sockets received (<c>ss</c>'s <c>data_segs_in</c>, summed over the established
/// connections to its port). A client sends a round trip's messages in one write, but Npgsql writes a large batch in
/// 8 KiB buffers, each a segment: a round trip of a 100 KB group commit counts a dozen times, so this is an upper
/// bound; -1 where <c>ss</c> is missing or does not report it.
/// </summary>
internal sealed record Costs(double HostCpu, double PostgresCpu, double BenchCpu, long Statements, long Transactions, long WalBytes, long RoundTrips)
{
    private static readonly double Tick = 100.0; // USER_HZ: 100 on every Linux this runs on

    public static async Task<Costs> Read(Process host, int postmaster, string connection)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var query = new NpgsqlCommand("""
            select (select coalesce(sum(calls), 0)::bigint from pg_stat_statements),
                   (select xact_commit from pg_stat_database where datname = current_database()),
                   (select wal_bytes::bigint from pg_stat_wal)
            """, db);
        await using var reader = await query.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (statements, transactions, wal) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        return new Costs(
            Cpu(host.Id, children: false), CpuOfPostgres(postmaster), Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
            statements, transactions, wal, await RoundTripsTo(new NpgsqlConnectionStringBuilder(connection).Port));
    }

    public Costs Since(Costs before) => new(
        HostCpu - before.HostCpu, PostgresCpu - before.PostgresCpu, BenchCpu - before.BenchCpu,
        Statements - before.Statements, Transactions - before.Transactions, WalBytes - before.WalBytes,
        RoundTrips < 0 || before.RoundTrips < 0 ? -1 : RoundTrips - before.RoundTrips);

    /// <summary>Per delivery: host + PostgreSQL CPU (ms), each apart, the load generator's, statements, transactions, round trips, WAL bytes.</summary>
    public string PerDelivery(int deliveries)
    {
        var trips = RoundTrips < 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"{(double)RoundTrips / deliveries:0.00} round trips, ");
        return string.Create(CultureInfo.InvariantCulture,
            $"CPU {(HostCpu + PostgresCpu) * 1000 / deliveries:0.000} ms (host {HostCpu * 1000 / deliveries:0.000}, PostgreSQL {PostgresCpu * 1000 / deliveries:0.000}; " +
            $"load generator + receiver {BenchCpu * 1000 / deliveries:0.000}); {(double)Statements / deliveries:0.0} statements, " +
            $"{(double)Transactions / deliveries:0.00} transactions, {trips}{(double)WalBytes / deliveries:0} WAL bytes");
    }

    /// <summary>
    /// The data segments PostgreSQL's sockets on <paramref name="port"/> received so far (connections that closed take
    /// theirs with them: the host's pool keeps its connections open), or -1 without <c>ss</c>.
    /// </summary>
    private static async Task<long> RoundTripsTo(int port)
    {
        try
        {
            var start = new ProcessStartInfo("ss", ["-tinH", "state", "established", $"( sport = :{port} )"]) { RedirectStandardOutput = true };
            using var ss = Process.Start(start)!;
            var output = await ss.StandardOutput.ReadToEndAsync();
            await ss.WaitForExitAsync();
            var counts = System.Text.RegularExpressions.Regex.Matches(output, @"data_segs_in:(\d+)");
            return counts.Count == 0 ? -1 : counts.Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    /// <summary>Forgets what pg_stat_statements counted so far (before the stretch <see cref="TopStatements"/> lists).</summary>
    public static async Task ResetStatements(string connection)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var reset = new NpgsqlCommand("select pg_stat_statements_reset()", db);
        await reset.ExecuteNonQueryAsync();
    }

    /// <summary>The statements counted since the last reset, most executed first: calls and time per delivery.</summary>
    public static async Task<IReadOnlyList<string>> TopStatements(string connection, int deliveries, int top = 20)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var query = new NpgsqlCommand("""
            select calls, total_exec_time, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 150)
            from pg_stat_statements where query not like '%pg_stat_statements%' order by calls desc limit $1
            """, db);
        query.Parameters.AddWithValue(top);
        await using var reader = await query.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{(double)reader.GetInt64(0) / deliveries,6:0.00} calls {reader.GetDouble(1) * 1000 / deliveries,7:0.0} us {(double)reader.GetInt64(2) / deliveries,6:0.00} rows  {reader.GetString(3)}"));
        }

        return lines;
    }

    /// <summary>Turns on pg_stat_statements (a preloaded library: the server restarts once, on the same port).</summary>
    public static async Task<Webhooks.Host.Postgres.EmbeddedPostgres> WithStatementCounts(Webhooks.Host.Postgres.EmbeddedPostgres postgres)
    {
        await using (var db = new NpgsqlConnection(postgres.ConnectionString))
        {
            await db.OpenAsync();
            await using var set = new NpgsqlCommand("alter system set shared_preload_libraries = 'pg_stat_statements'", db);
            await set.ExecuteNonQueryAsync();
        }

        NpgsqlConnection.ClearAllPools();
        postgres.Stop();
        var restarted = Webhooks.Host.Postgres.EmbeddedPostgres.Start(postgres.DataDirectory, port: postgres.Port);
        await using var again = new NpgsqlConnection(restarted.ConnectionString);
        await again.OpenAsync();
        await using var create = new NpgsqlCommand("create extension if not exists pg_stat_statements", again);
        await create.ExecuteNonQueryAsync();
        return restarted;
    }

    private static double CpuOfPostgres(int postmaster)
    {
        var total = Cpu(postmaster, children: true);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && pid != postmaster && ParentOf(pid) == postmaster)
            {
                total += Cpu(pid, children: false);
            }
        }

        return total;
    }

    /// <summary>utime + stime (and, with <paramref name="children"/>, cutime + cstime: reaped children) in seconds.</summary>
    private static double Cpu(int pid, bool children)
    {
        var fields = Fields(pid);
        if (fields is null)
        {
            return 0;
        }

        // After "pid (comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based), i.e. 11.. here.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        if (children)
        {
            ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        }

        return ticks / Tick;
    }

    private static int? ParentOf(int pid) => Fields(pid) is { } fields ? int.Parse(fields[1], CultureInfo.InvariantCulture) : null;

    /// <summary>The fields of /proc/pid/stat after the command name (which may hold spaces): state first.</summary>
    private static string[]? Fields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null; // ended meanwhile
        }
    }
}
