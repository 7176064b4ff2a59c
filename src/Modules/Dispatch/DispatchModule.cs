using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Webhooks.Dispatch.Batching;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Flow;
using Webhooks.Dispatch.Outbound;
using Webhooks.Dispatch.Publishing;
using Webhooks.Dispatch.Routing;
using Wolverine;

namespace Webhooks.Dispatch;

public static class DispatchModule
{
    /// <summary>Publishing and delivery: options (validated before the host starts), the catalog, outbound HTTP, group commit.</summary>
    public static IServiceCollection AddDispatch(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddDispatchOptions();
        services.AddSingleton(provider => new SsrfGuard(provider.GetRequiredService<DispatchOptions>().ParsedAllowedNetworks));
        services.TryAddSingleton(HostResolver.System);
        services.AddSingleton<OutboundHttp>();
        services.AddSingleton(provider => new TargetLimiter(provider.GetRequiredService<DispatchOptions>().MaxConcurrencyPerTarget));
        services.AddSingleton<IWolverineExtension, DispatchDurability>();
        services.AddSingleton<DispatchCatalog>();
        services.AddMemoryCache();
        services.AddSingleton<SecretCache>();
        services.AddSingleton<OAuthTokens>();
        services.AddSingleton<Breakers>();
        services.AddSingleton<RateLimits>();
        services.AddSingleton<OrderedDeliveries>();
        services.AddSingleton<DeliveryPath>();
        services.AddHostedService<OrderedDeliveries.Sweep>();
        services.AddHostedService<Operations.DispatchGauges>();
        services.AddOptions<Operations.OperationsOptions>().BindConfiguration(Operations.OperationsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Operations.OperationsOptions>, Operations.OperationsOptionsValidator>();
        services.AddSingleton<Operations.OperatorNotifications>();
        services.AddSingleton<TargetCaller>();
        services.AddSingleton<Publisher>();
        services.AddSingleton<Idempotency>();
        services.AddSingleton<IdempotencySweep>();
        services.AddHostedService(provider => provider.GetRequiredService<IdempotencySweep>());
        services.AddOptions<Bins.BinOptions>().BindConfiguration(Bins.BinOptions.Section)
            .Validate(o => o.MaxBins > 0 && o.MaxRequestsPerBin > 0 && o.MaxBodyBytes > 0 && o.MaxHeaderBytes > 0 && o.CapturesPerSecond > 0,
                $"{Bins.BinOptions.Section}: MaxBins, MaxRequestsPerBin, MaxBodyBytes, MaxHeaderBytes and CapturesPerSecond must be positive.")
            .Validate(o => o.Lifetime > TimeSpan.Zero, $"{Bins.BinOptions.Section}:Lifetime must be positive.")
            .ValidateOnStart();
        services.AddSingleton(provider => provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Bins.BinOptions>>().Value);
        services.AddSingleton<Bins.CaptureLimiter>();
        services.AddSingleton<Bins.PublicAddress>();
        services.AddSingleton<History.Redeliveries>();
        services.AddSingleton<PipelineProgress>();
        services.AddSingleton<GroupCommit>();
        services.AddHostedService(provider => provider.GetRequiredService<GroupCommit>());
        services.AddSingleton<DeliveryQueueDepth>();
        services.AddSingleton<BatchedDeliveries>();
        services.AddSingleton<PipelineWatch>();
        services.AddHostedService(provider => provider.GetRequiredService<PipelineWatch>());
        services.AddSingleton<BackPressure>();
        services.AddHealthChecks().AddCheck<PipelineHealthCheck>("delivery pipeline", tags: [BuildingBlocks.HealthTags.Ready]);
        services.AddSingleton<CatalogListener>();
        services.AddHostedService(provider => provider.GetRequiredService<CatalogListener>());
        services.AddSingleton(new BuildingBlocks.RebuildableProjection("DeliveryLog"));
        services.AddOptions<Retention.RetentionOptions>().BindConfiguration(Retention.RetentionOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Retention.RetentionOptions>, Retention.RetentionOptionsValidator>();
        services.AddSingleton<Retention.Retention>();
        services.AddHostedService<Retention.RetentionJob>();
        services.ConfigureMarten((provider, opts) => Retention.Retention.AddMaskingRules(opts, provider.GetRequiredService<TimeProvider>()));

        services.ConfigureMarten(opts =>
        {
            opts.Schema.For<RouteRecord>();
            opts.Schema.For<SourceRecord>();
            opts.Schema.For<IdempotentPublish>().Index(x => x.ExpiresAt);
            opts.Schema.For<Bins.RequestBin>();
            opts.Schema.For<Bins.CapturedRequest>().Index(x => x.BinId);
            // The delivery log's columns and indexes: History.DeliveryLog.ConfigureMarten.
            opts.Schema.For<History.DeliveryLog>();
            // Rate limits' token buckets: a table of their own, updated in place by one statement (not a document).
            opts.Storage.ExtendedSchemaObjects.Add(RateLimits.Table(opts.DatabaseSchemaName));
            opts.Storage.ExtendedSchemaObjects.Add(OrderedDeliveries.Table(opts.DatabaseSchemaName));
            opts.Schema.For<Retention.RetentionState>();
            opts.Schema.For<Retention.RetentionHeld>();
            // Read models of the delivery streams, written in the same transaction as their events.
            opts.Projections.Add<History.DeliveryLogProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);
        });
        services.ConfigureWolverine(opts =>
        {
            opts.Discovery.IncludeAssembly(typeof(DispatchModule).Assembly);
            // Calls are I/O: many may wait on targets at once; the per-target limiter keeps one target to its share.
            opts.LocalQueueFor<DeliverWebhook>().UseDurableInbox().MaximumParallelMessages(64);
            // A group commit's first attempts, one message for all: as many batches at once as single deliveries, so a
            // hanging target holds no more of them (its limiter lets it hold 16 calls) than it would hold deliveries.
            opts.LocalQueueFor<DeliverWebhooks>().UseDurableInbox().MaximumParallelMessages(64);
            // Operator notifications: durable, a few at a time.
            opts.LocalQueueFor<Operations.NotifyOperator>().UseDurableInbox().MaximumParallelMessages(4);
        });
        return services;
    }

    /// <summary><c>Webhooks:Dispatch</c>, bound and validated on start; also as <see cref="DispatchOptions"/> itself.</summary>
    public static IServiceCollection AddDispatchOptions(this IServiceCollection services)
    {
        services.AddOptions<DispatchOptions>().BindConfiguration(DispatchOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DispatchOptions>, DispatchOptionsValidator>();
        return services.AddSingleton(provider => provider.GetRequiredService<IOptions<DispatchOptions>>().Value);
    }

    /// <summary>
    /// Refuses an event body over <c>Webhooks:Dispatch:MaxEventBytes</c> (a batch's over <c>MaxBatchBytes</c>) with 413
    /// before reading it.
    /// </summary>
    public static IApplicationBuilder UseDispatch(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<DispatchOptions>();
        return app.Use(async (context, next) =>
        {
            var (max, setting, what) = !HttpMethods.IsPost(context.Request.Method) ? (0L, "", "")
                : context.Request.Path.Equals("/events", StringComparison.OrdinalIgnoreCase) ? (options.MaxEventBytes, "MaxEventBytes", "An event body")
                : context.Request.Path.Equals("/events/batch", StringComparison.OrdinalIgnoreCase) ? (options.MaxBatchBytes, "MaxBatchBytes", "A batch's body")
                : (0L, "", "");
            if (max > 0)
            {
                if (context.Request.ContentLength > max)
                {
                    context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                    await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context,
                        ProblemDetails = new ProblemDetails
                        {
                            Type = "urn:webhooks:too-large",
                            Title = "Event too large",
                            Status = StatusCodes.Status413PayloadTooLarge,
                            Detail = $"{what} may be at most {max} bytes (Webhooks:Dispatch:{setting}); this one is {context.Request.ContentLength}.",
                        },
                    });
                    return;
                }

                if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                {
                    limit.MaxRequestBodySize = max;
                }
            }

            await next(context);
        });
    }
}

/// <summary>Wolverine's durability agents as <c>Webhooks:Dispatch</c> sets them (Wolverine applies extensions from the container).</summary>
internal sealed class DispatchDurability(IOptions<DispatchOptions> configured) : IWolverineExtension
{
    public void Configure(WolverineOptions opts)
    {
        var options = configured.Value;
        // Retries are durable scheduled messages; this is how soon a due one is picked up.
        opts.Durability.ScheduledJobPollingTime = options.SchedulePollingInterval;
        opts.Durability.ScheduledJobFirstExecution = options.SchedulePollingInterval;
        // Due retries are claimed this many per poll: at Wolverine's default (100) a backlog drained at ~100
        // deliveries/s whatever the host could do (the benchmark's backlog section found it).
        opts.Durability.RecoveryBatchSize = 1000;
        // A delivery handler waits for its call, up to AsyncTimeout (a batch's for all of its calls): Wolverine must not
        // cancel it first (its default is 60 s), or a long AsyncTimeout would see slow calls cut and made again.
        opts.DefaultExecutionTimeout = options.HandlerTimeout;
        // A node that stops writing its heartbeat is declared dead after DeadNodeTimeout (and two more checks);
        // its accepted deliveries are then released to the living nodes.
        opts.Durability.StaleNodeTimeout = options.DeadNodeTimeout;
        opts.Durability.HealthCheckPollingTime = options.HeartbeatInterval;
        opts.Durability.NodeReassignmentPollingTime = options.HeartbeatInterval;
        opts.Durability.OrphanedMessageSweepPollingTime = options.HeartbeatInterval;
        // Envelopes are read back only from this database. Ours stay far below Wolverine's 4 MiB default
        // (DeliverWebhooks.Split), but one written before that split, or one very large body, must not become an
        // envelope no poll can read (the poll fails whole and holds back every scheduled message behind it).
        opts.MaxIncomingEnvelopeDataSize = 64 << 20;
    }
}
