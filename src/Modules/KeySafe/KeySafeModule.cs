using JasperFx.Events.Projections;
using Marten;
using Marten.Schema;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Webhooks.KeySafe.Crypto;
using Webhooks.KeySafe.Keys;
using Webhooks.KeySafe.Usage;
using Wolverine;

namespace Webhooks.KeySafe;

public static class KeySafeModule
{
    /// <summary>
    /// The encrypted credential vault: master keys (read now, so a host without one refuses to start), Marten
    /// documents and projections, and Wolverine discovery.
    /// </summary>
    public static IServiceCollection AddKeySafe(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var masterKeys = MasterKeyRing.FromConfiguration(configuration, environment.IsDevelopment(), environment.ContentRootPath);
        services.AddSingleton(masterKeys);
        services.AddSingleton<SecretBox>();
        services.AddSingleton<SecretRewrapper>();

        services.ConfigureMarten(opts =>
        {
            opts.Projections.Snapshot<Key>(SnapshotLifecycle.Inline);
            opts.Schema.For<Key>().UniqueIndex(UniqueIndexType.Computed, "uidx_keysafe_key_name", x => x.NormalizedName);
            opts.Schema.For<KeySecret>();
            opts.Schema.For<KeyUsage>().UseOptimisticConcurrency(true);
            opts.Schema.For<Signing.SigningSecret>();
            opts.Schema.For<Signing.SigningRoot>();
        });
        services.AddSingleton<Signing.SigningRootSeed>();
        services.AddSingleton<Marten.Schema.IInitialData>(sp => sp.GetRequiredService<Signing.SigningRootSeed>());
        services.AddHostedService(sp => sp.GetRequiredService<Signing.SigningRootSeed>());
        services.AddSingleton<Signing.SigningSecretDeriver>();
        services.ConfigureWolverine(opts => opts.Discovery.IncludeAssembly(typeof(KeySafeModule).Assembly));
        BuildingBlocks.ChangeEntryProjection.Register(services, new KeySafeAudit());
        services.AddSingleton(new BuildingBlocks.RebuildableProjection("Key"));
        return services;
    }
}
