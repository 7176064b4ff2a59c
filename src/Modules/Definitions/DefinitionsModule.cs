using JasperFx.Events.Projections;
using Marten;
using Marten.Schema;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Definitions.Catalog;
using Webhooks.Definitions.Hooks;
using Wolverine;

namespace Webhooks.Definitions;

/// <summary><c>Webhooks:Definitions</c> settings.</summary>
public sealed class DefinitionsOptions
{
    public const string Section = "Webhooks:Definitions";

    /// <summary>How long a rotated signing secret keeps signing beside the new one.</summary>
    public TimeSpan SigningSecretGracePeriod { get; set; } = TimeSpan.FromHours(24);
}

public static class DefinitionsModule
{
    /// <summary>Webhook definitions and the event-source catalog: options, Marten projections and Wolverine discovery.</summary>
    public static IServiceCollection AddDefinitions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DefinitionsOptions>()
            .BindConfiguration(DefinitionsOptions.Section)
            .Validate(o => o.SigningSecretGracePeriod >= TimeSpan.Zero, $"{DefinitionsOptions.Section}:SigningSecretGracePeriod must not be negative.")
            .ValidateOnStart();
        services.ConfigureMarten(opts =>
        {
            opts.Projections.Snapshot<EventSource>(SnapshotLifecycle.Inline);
            opts.Projections.Add<CatalogApplicationProjection>(ProjectionLifecycle.Inline);
            opts.Schema.For<EventSource>().Index(x => x.Application);

            // Live webhooks only: a deleted webhook's snapshot is deleted, which frees its name.
            opts.Projections.Snapshot<Webhook>(SnapshotLifecycle.Inline);
            opts.Schema.For<Webhook>().UniqueIndex(UniqueIndexType.Computed, WebhookLookup.NameIndex, x => x.Name)
                .Duplicate(x => x.Application).Duplicate(x => x.EventSource).Duplicate(x => x.Enabled);
        });
        services.ConfigureWolverine(opts => opts.Discovery.IncludeAssembly(typeof(DefinitionsModule).Assembly));
        BuildingBlocks.ChangeEntryProjection.Register(services, new DefinitionsAudit());
        services.AddSingleton(new BuildingBlocks.RebuildableProjection("EventSource"));
        services.AddSingleton(new BuildingBlocks.RebuildableProjection("CatalogApplication"));
        services.AddSingleton(new BuildingBlocks.RebuildableProjection("Webhook"));
        return services;
    }
}
