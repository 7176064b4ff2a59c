using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Definitions.Catalog;
using Wolverine;

namespace Webhooks.Definitions;

public static class DefinitionsModule
{
    /// <summary>Webhook definitions and the event-source catalog: Marten projections and Wolverine discovery.</summary>
    public static IServiceCollection AddDefinitions(this IServiceCollection services)
    {
        services.ConfigureMarten(opts =>
        {
            opts.Projections.Snapshot<EventSource>(SnapshotLifecycle.Inline);
            opts.Projections.Add<CatalogApplicationProjection>(ProjectionLifecycle.Inline);
            opts.Schema.For<EventSource>().Index(x => x.Application);
        });
        services.ConfigureWolverine(opts => opts.Discovery.IncludeAssembly(typeof(DefinitionsModule).Assembly));
        return services;
    }
}
