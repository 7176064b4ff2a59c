using JasperFx.Events;
using Marten.Events.Projections;
using Webhooks.Definitions.Contracts;

namespace Webhooks.Definitions.Catalog;

/// <summary>An application and the names of its event sources, keyed by the application's name.</summary>
public sealed class CatalogApplication
{
    public string Id { get; set; } = "";
    public List<string> EventSources { get; set; } = [];

    public ApplicationView ToView() => new(Id, EventSources);
}

public sealed partial class CatalogApplicationProjection : MultiStreamProjection<CatalogApplication, string>
{
    public CatalogApplicationProjection()
    {
        Identity<EventSourceRegistered>(e => e.Application);
    }

    public static void Apply(EventSourceRegistered registered, CatalogApplication application)
    {
        var at = application.EventSources.BinarySearch(registered.Name, StringComparer.Ordinal);
        if (at < 0)
        {
            application.EventSources.Insert(~at, registered.Name);
        }
    }
}
