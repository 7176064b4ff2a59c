using System.Text.Json.Serialization;
using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Resources;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Npgsql;
using Weasel.Core;
using Webhooks.BuildingBlocks;
using Webhooks.Console;
using Webhooks.Definitions;
using Webhooks.Dispatch;
using Webhooks.Dispatch.Bins;
using Webhooks.Host.Api;
using Webhooks.Host.Auth;
using Webhooks.Host.Postgres;
using Webhooks.KeySafe;
using Webhooks.KeySafe.Crypto;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Http;
using Wolverine.Marten;

namespace Webhooks.Host;

/// <summary>The composition root: the one place that knows every module.</summary>
public static partial class WebhooksHost
{
    /// <summary>
    /// Log levels by default, beneath every configuration source (appsettings, environment, command line override them):
    /// the frameworks say what goes wrong, not each command and step, wherever the host runs from (its appsettings.json
    /// is read from the content root, which is the working directory of a published host).
    /// </summary>
    private static readonly Dictionary<string, string?> LogLevels = new()
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning", // the host says where it listens itself
        ["Logging:LogLevel:Wolverine"] = "Warning",
        ["Logging:LogLevel:Marten"] = "Warning",
        ["Logging:LogLevel:JasperFx"] = "Warning",
        ["Logging:LogLevel:Npgsql"] = "Warning",
    };

    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = LogLevels });
        if (builder.Configuration.GetValue("Webhooks:Logging:Json", false))
        {
            // One JSON object per line (timestamp, level, category, message, the message's fields and scopes), for log shippers.
            builder.Logging.ClearProviders().AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.IncludeScopes = true;
            });
        }

        builder.AddWebhooksTelemetry();
        // Keys first: a host that would refuse every request should refuse to start before touching the database.
        builder.Services.AddApiKeyAuth(builder.Configuration, builder.Environment);
        var connectionString = builder.AddWebhooksDatabase();

        builder.Services.AddSingleton(TimeProvider.System);
        // One pool for Marten, Wolverine and the modules' own SQL, owned by the container (closed when the host is
        // disposed, after Marten and Wolverine stopped), with the host's logging.
        builder.Services.AddNpgsqlDataSource(WithAutoPrepare(connectionString));
        builder.Services.AddMarten(opts =>
            {
                opts.DatabaseSchemaName = "webhooks";
                opts.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase, json => json.Converters.Add(new StorableStringConverter()));
                opts.Events.StreamIdentity = StreamIdentity.AsGuid;
                opts.Events.MetadataConfig.HeadersEnabled = true;
                opts.Events.MetadataConfig.CorrelationIdEnabled = true;
                opts.Events.MetadataConfig.CausationIdEnabled = true;
                opts.Events.MetadataConfig.UserNameEnabled = true;
                // mt_events and mt_streams in two partitions, hot and archived: what retention archives leaves every hot
                // read's way (issue 16). A database from before is converted on start (ArchivePartitioningUpgrade).
                opts.Events.UseArchivedStreamPartitioning = true;
                // One service owns its schema: it creates and migrates it on start, in every environment.
                opts.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
            })
            .UseNpgsqlDataSource()
            .UseLightweightSessions()
            .AddAsyncDaemon(DaemonMode.HotCold)
            .IntegrateWithWolverine(integration => integration.MessageStorageSchemaName = "wolverine");

        builder.Services.ConfigureMarten((services, opts) => opts.Logger(new MartenLog(services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<ILogger<IDocumentStore>>())));
        builder.Services.AddDefinitions(builder.Configuration).AddKeySafe(builder.Configuration, builder.Environment).AddDispatch(builder.Configuration);

        builder.Host.UseWolverine(opts =>
        {
            opts.Policies.AutoApplyTransactions();
            opts.Policies.AddMiddleware(typeof(Api.CommandActorStamp), Api.CommandActorStamp.Applies);
            opts.Policies.UseDurableLocalQueues();
            opts.MultipleHandlerBehavior = MultipleHandlerBehavior.Separated;
            // Two writers raced on one stream or document: try again on fresh state before giving up.
            opts.OnException<ConcurrencyException>()
                .RetryWithCooldown(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250));
            // The database went away (restart, failover): hold the message and try again until it is back.
            opts.OnException(DatabaseOutage.Is, "the database is unreachable").RetryWithCooldown(DatabaseOutage.Cooldowns);
            // Handlers and endpoints run from the code pre-generated into Internal/Generated (README: "Generated code").
            opts.CodeGeneration.TypeLoadMode = TypeLoadMode.Static;
            if (builder.Configuration["Webhooks:GeneratedCodePath"] is { Length: > 0 } generatedCodePath)
            {
                opts.CodeGeneration.GeneratedCodeOutputPath = generatedCodePath;
            }
        });
        builder.Services.AddResourceSetupOnStartup();
        // Before every other hosted service (Marten's schema setup among them).
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, ArchivePartitioningUpgrade>());
        builder.Services.AddWolverineHttp();
        builder.Services.ConfigureHttpJsonOptions(json =>
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase)));

        builder.Services.AddWebhooksProblemDetails().AddWebhooksOpenApi().AddWebhooksHealth();
        builder.Services.AddConsole(builder.Configuration);
        builder.Services.AddDataProtection().SetApplicationName("Webhooks");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>, DataProtectionKeysInDatabase>();
        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddSingleton<ReadModels>();
        return builder;
    }

    public static WebApplication UseWebhooks(this WebApplication app)
    {
        app.UseWebhooksProblemDetails();
        app.UseConsoleAssets();
        // Routing after the console's static assets: a file is served before any endpoint (the console's catch-all
        // "not found" page among them) is chosen.
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseDispatch();
        app.UseStorableInput();
        app.MapWebhooksHealth();
        app.MapWebhooksMetrics();
        app.MapWebhooksOpenApi();
        app.MapBinCapture();
        app.MapConsole();
        app.MapWolverineEndpoints(http =>
        {
            http.RejectUnparseableQueryValues = true;
            http.AddMiddleware(typeof(ActorStamp), ActorStamp.Applies);
        });

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Webhooks");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            LogListening(logger, string.Join(", ", app.Urls));
            if (app.Services.GetRequiredService<ApiKeys>().UsesDevelopmentKey)
            {
                LogDevelopmentKey(logger, ApiKeys.DevelopmentKey);
            }

            if (app.Services.GetRequiredService<MasterKeyRing>().DevelopmentKeyFile is { } masterKeyFile)
            {
                LogDevelopmentMasterKey(logger, masterKeyFile);
            }
        });
        return app;
    }

    [LoggerMessage(LogLevel.Information, "Webhooks is listening on {Urls}: the console at /console, the API reference at /scalar/v1 (OpenAPI document: /openapi/v1.json)")]
    private static partial void LogListening(ILogger logger, string urls);

    [LoggerMessage(LogLevel.Warning, "Development API key (every role): {Key}. Configure Webhooks:Auth:ApiKeys to replace it.")]
    private static partial void LogDevelopmentKey(ILogger logger, string key);

    [LoggerMessage(LogLevel.Warning, "KeySafe encrypts with the Development master key in {File}. Outside Development configure Webhooks:KeySafe:MasterKeys.")]
    private static partial void LogDevelopmentMasterKey(ILogger logger, string file);

    /// <summary>
    /// Npgsql prepares the statements a connection runs often (the event appends, envelope writes and log upserts of
    /// every publish and delivery), so PostgreSQL parses and plans them once per connection instead of every time.
    /// A connection string that sets <c>Max Auto Prepare</c> itself is left as it is.
    /// </summary>
    public static string WithAutoPrepare(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (!settings.ShouldSerialize("Max Auto Prepare"))
        {
            settings.MaxAutoPrepare = 64;
            settings.AutoPrepareMinUsages = 2;
        }

        return settings.ConnectionString;
    }
}
