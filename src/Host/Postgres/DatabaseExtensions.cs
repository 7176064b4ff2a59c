
namespace Webhooks.Host.Postgres;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Webhooks";
    public const string DefaultDataDirectory = ".data/postgres";

    /// <summary>
    /// The connection string to use: <c>ConnectionStrings:Webhooks</c> when set, else the embedded PostgreSQL,
    /// started now (Marten and Wolverine need the connection string while services are registered) and stopped
    /// after every other hosted service.
    /// </summary>
    public static string AddWebhooksDatabase(this WebApplicationBuilder builder)
    {
        var configured = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var section = builder.Configuration.GetSection("Webhooks:EmbeddedPostgres");
        var directory = section["DataDirectory"] ?? DefaultDataDirectory;
        var postgres = EmbeddedPostgres.Start(
            Path.Combine(builder.Environment.ContentRootPath, directory), section["BinDirectory"]);

        // Commands that build the host without running it (codegen, projections) never call StopAsync.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => postgres.Stop();

        builder.Services.AddSingleton(postgres);
        // Registered before Marten and Wolverine, so it starts first and stops last.
        builder.Services.AddHostedService<EmbeddedPostgresLifetime>();
        return postgres.ConnectionString;
    }
}

internal sealed partial class EmbeddedPostgresLifetime(EmbeddedPostgres postgres, ILogger<EmbeddedPostgresLifetime> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogStarted(postgres.Port, postgres.DataDirectory);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        postgres.Stop();
        LogStopped(postgres.DataDirectory);
        return Task.CompletedTask;
    }

    [LoggerMessage(LogLevel.Information, "Embedded PostgreSQL on 127.0.0.1:{Port}, data in {DataDirectory}")]
    private partial void LogStarted(int port, string dataDirectory);

    [LoggerMessage(LogLevel.Information, "Embedded PostgreSQL in {DataDirectory} stopped")]
    private partial void LogStopped(string dataDirectory);
}
