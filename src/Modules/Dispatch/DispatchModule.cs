using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace Webhooks.Dispatch;

public static class DispatchModule
{
    /// <summary>Registers the Dispatch module's handlers and endpoints with Wolverine.</summary>
    public static IServiceCollection AddDispatch(this IServiceCollection services)
    {
        services.ConfigureWolverine(opts => opts.Discovery.IncludeAssembly(typeof(DispatchModule).Assembly));
        return services;
    }
}
