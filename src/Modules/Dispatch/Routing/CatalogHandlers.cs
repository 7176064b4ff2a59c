using Marten;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Outbound;

namespace Webhooks.Dispatch.Routing;

/// <summary>Dispatch's copy of a webhook definition: what a restarted node, or another node, loads into its catalog.</summary>
public sealed class RouteRecord
{
    public Guid Id { get; set; }
    public WebhookDefinition? Definition { get; set; }
    public long Version { get; set; }
    public bool Removed { get; set; }
}

/// <summary>Dispatch's copy of an event source, keyed "application/name".</summary>
public sealed class SourceRecord
{
    public string Id { get; set; } = "";
    public required EventSourceView EventSource { get; set; }
}

/// <summary>
/// Keeps the catalog current: this node's in-memory index at once, the copy in the database for restarts, and a
/// PostgreSQL notification (sent on commit) so every other node sharing the database reloads that entry. A route's
/// notification carries its version: a node that already has it (the one that sent it) does not reload it.
/// </summary>
public static class CatalogHandler
{
    public const string Channel = "webhooks_dispatch_catalog";

    public static async Task Handle(WebhookChanged changed, IDocumentSession session, DispatchCatalog catalog, SecretCache secrets, CancellationToken cancellation)
    {
        var webhook = changed.Webhook;
        var record = await session.LoadAsync<RouteRecord>(webhook.Id, cancellation);
        if (record is not null && (record.Removed || record.Version >= webhook.Version))
        {
            return;
        }

        session.Store(new RouteRecord { Id = webhook.Id, Definition = webhook, Version = webhook.Version });
        session.QueueSqlCommand("select pg_notify(?, ?)", Channel, $"route:{webhook.Id}:{webhook.Version}");
        catalog.Apply(webhook);
        secrets.ForgetSigningSecrets(webhook.Id);
    }

    public static async Task Handle(WebhookRemoved removed, IDocumentSession session, DispatchCatalog catalog, SecretCache secrets, CancellationToken cancellation)
    {
        var record = await session.LoadAsync<RouteRecord>(removed.WebhookId, cancellation);
        session.Store(new RouteRecord { Id = removed.WebhookId, Definition = null, Version = Math.Max(removed.Version, record?.Version ?? 0), Removed = true });
        session.QueueSqlCommand("select pg_notify(?, ?)", Channel, $"route:{removed.WebhookId}:{removed.Version}");
        catalog.Remove(removed.WebhookId, removed.Version);
        secrets.ForgetSigningSecrets(removed.WebhookId);
    }

    public static void Handle(EventSourceChanged changed, IDocumentSession session, DispatchCatalog catalog)
    {
        var source = changed.EventSource;
        var id = $"{source.Application}/{source.Name}";
        session.Store(new SourceRecord { Id = id, EventSource = source });
        session.QueueSqlCommand("select pg_notify(?, ?)", Channel, $"source:{id}");
        catalog.Apply(source);
    }
}
