using System.Diagnostics;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Wolverine.Http;

namespace Webhooks.Host.Api;

/// <summary>Every module's read models, as Marten projections.</summary>
public sealed class ReadModels(IEnumerable<RebuildableProjection> projections)
{
    public IReadOnlyList<string> Names { get; } = projections.Select(p => p.Name).Distinct().Order(StringComparer.Ordinal).ToList();
}

public static class RebuildProjectionsEndpoint
{
    /// <summary>
    /// Rebuilds every read model (catalog, webhooks, keys, delivery log) from the events, one after another, and
    /// answers what was rebuilt and how long each took. The command line does the same with live progress:
    /// <c>dotnet run --project src/Host -- projections rebuild</c>.
    /// </summary>
    [WolverinePost("/admin/projections/rebuild", OperationId = "RebuildProjections")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Audit")]
    public static async Task<IReadOnlyList<ProjectionRebuilt>> Post(IDocumentStore store, ReadModels models, CancellationToken cancellation)
    {
        using var daemon = await store.BuildProjectionDaemonAsync();
        var rebuilt = new List<ProjectionRebuilt>();
        foreach (var name in models.Names)
        {
            var started = Stopwatch.GetTimestamp();
            await daemon.RebuildProjectionAsync(name, TimeSpan.FromMinutes(5), cancellation);
            rebuilt.Add(new ProjectionRebuilt(name, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds));
        }

        return rebuilt;
    }
}
