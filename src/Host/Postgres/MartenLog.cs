using Marten;
using Marten.Services;
using Npgsql;

namespace Webhooks.Host.Postgres;

/// <summary>
/// Marten's log, and the guard of Npgsql's connection pool (issue 11).
/// <para>
/// The guard: Npgsql 10.0.3 marks an auto-prepared statement prepared when PostgreSQL has parsed it, before its Bind
/// succeeded; when a parameter is refused while binding (class 22, data exception: a NUL in text or jsonb, a number
/// out of range) on the very execution that prepares the statement, the statement stays "prepared" without its row
/// description, and the next command on that pooled connection reads a DataRow it did not expect ("Received
/// unexpected backend message DataRow"). Marten reports a failed command here while the connection is still in use,
/// so on a data exception the data source's pool is cleared: that connection (and any other busy one, a small price for a rare
/// event) is closed when it is returned instead of going back to the pool. Input that can cause such an error is
/// refused long before (see StorableInput); this is the net below it.
/// </para>
/// <para>
/// The log: a failure is logged once, by whoever handles it (a 409 for a lost race, a 500 in the problem handler), so
/// here it is Debug, with the SQL and never the parameter values: Marten's default logger writes every parameter of a
/// failed command at Error, records and ciphertexts included, and for normal races.
/// </para>
/// </summary>
internal sealed partial class MartenLog(NpgsqlDataSource dataSource, ILogger<IDocumentStore> logger) : IMartenLogger, IMartenSessionLogger
{
    public IMartenSessionLogger StartSession(IQuerySession session) => this;

    public void SchemaChange(string sql) => LogSchemaChange(sql);

    public void LogSuccess(NpgsqlCommand command)
    {
    }

    public void LogSuccess(NpgsqlBatch batch)
    {
    }

    public void LogFailure(NpgsqlCommand command, Exception ex) => Failed(command.Connection, command.CommandText, ex);

    public void LogFailure(NpgsqlBatch batch, Exception ex) =>
        Failed(batch.Connection, string.Join(";\n", batch.BatchCommands.Cast<NpgsqlBatchCommand>().Select(c => c.CommandText)), ex);

    public void LogFailure(Exception ex, string message) => LogFailed(message, ex);

    public void RecordSavedChanges(IDocumentSession session, IChangeSet commit)
    {
    }

    public void OnBeforeExecute(NpgsqlCommand command)
    {
    }

    public void OnBeforeExecute(NpgsqlBatch batch)
    {
    }

    /// <summary>True for errors PostgreSQL raises while converting a parameter: they can leave the connection out of step.</summary>
    public static bool IsDataException(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is PostgresException { SqlState: var state } && state.StartsWith("22", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private void Failed(NpgsqlConnection? connection, string sql, Exception exception)
    {
        if (connection is not null && IsDataException(exception))
        {
            // The data source's own pool: NpgsqlConnection.ClearPool only knows pools made from connection strings.
            dataSource.Clear();
            LogPoolCleared(SqlState(exception));
        }

        LogFailed(sql, exception);
    }

    private static string SqlState(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is PostgresException postgres)
            {
                return postgres.SqlState; // never the message text: it may quote the refused value
            }
        }

        return "unknown";
    }

    [LoggerMessage(LogLevel.Information, "Executed schema update SQL:\n{Sql}")]
    private partial void LogSchemaChange(string sql);

    [LoggerMessage(LogLevel.Debug, "Marten's command failed (the caller handles it):\n{Sql}")]
    private partial void LogFailed(string sql, Exception exception);

    [LoggerMessage(LogLevel.Warning,
        "PostgreSQL refused a parameter (SQLSTATE {SqlState}); the connection pool is cleared so that the connection it happened on is not used again")]
    private partial void LogPoolCleared(string sqlState);
}
