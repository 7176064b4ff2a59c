using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace Webhooks.KeySafe;

public static class KeySafeModule
{
    /// <summary>Registers the KeySafe module's handlers and endpoints with Wolverine.</summary>
    public static IServiceCollection AddKeySafe(this IServiceCollection services)
    {
        services.ConfigureWolverine(opts => opts.Discovery.IncludeAssembly(typeof(KeySafeModule).Assembly));
        return services;
    }
}
