using Npgsql;

namespace Webhooks.Host.Postgres;

/// <summary>
/// Readies a database from before archived-stream partitioning (issue 16) for Marten's conversion of its event tables.
/// Marten converts <c>mt_events</c> to a partitioned table by copying it aside, dropping it and creating it anew; the
/// event sequence is owned by the old table's <c>seq_id</c> column, so PostgreSQL drops it with the table and every
/// append fails after (marten#3904). Released from the table first, the sequence survives the conversion and numbering
/// goes on where it was. Runs before any other hosted service, so before Marten applies its schema.
/// </summary>
internal sealed partial class ArchivePartitioningUpgrade(NpgsqlDataSource database, ILogger<ArchivePartitioningUpgrade> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            select c.relkind = 'r' and to_regclass('webhooks.mt_events_sequence') is not null
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'webhooks' and c.relname = 'mt_events'
            """);
        if (await command.ExecuteScalarAsync(cancellationToken) is true)
        {
            await using var release = database.CreateCommand("alter sequence webhooks.mt_events_sequence owned by none");
            await release.ExecuteNonQueryAsync(cancellationToken);
            LogConverting();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Information, "The event tables are converted to hot and archived partitions (retention's archive); the event sequence is kept")]
    private partial void LogConverting();
}
