using System.Collections.Concurrent;
using Webhooks.Definitions.Contracts;
using Webhooks.Triggers;

namespace Webhooks.Dispatch.Routing;

/// <summary>An enabled-or-not webhook as Dispatch matches it: its definition and its trigger, parsed once.</summary>
public sealed class Route
{
    public Route(WebhookDefinition definition)
    {
        Definition = definition;
        if (definition.TriggerExpression is { Length: > 0 } text)
        {
            try
            {
                Trigger = TriggerExpression.Parse(text);
            }
            catch (TriggerSyntaxException syntax)
            {
                // Definitions refuses such expressions; an old or foreign one still must not stop dispatch.
                TriggerProblem = syntax.Message;
            }
        }
    }

    public WebhookDefinition Definition { get; }
    public TriggerExpression? Trigger { get; }
    public string? TriggerProblem { get; }
}

/// <summary>What Dispatch needs of an event source to render payloads: entity, table, event.</summary>
public sealed record SourceInfo(string Application, string Name, string Entity, string? Table, string Event, System.Text.Json.JsonElement? SampleRecord = null)
{
    public string Urn => $"urn:webhook:entity:{Table ?? Entity}:{Event}";
}

/// <summary>
/// The in-memory index publishes match against: routes by (application, event source), so the cost of a publish
/// depends on the webhooks of that event source only, never on the others. Kept current from Definitions' messages
/// on this node and, for the other nodes sharing the database, from PostgreSQL notifications (CatalogListener).
/// Readers see immutable arrays; writers swap them under a lock (writes are rare).
/// </summary>
public sealed class DispatchCatalog
{
    private readonly Lock gate = new();
    private readonly ConcurrentDictionary<Guid, Route> byId = new();
    private readonly ConcurrentDictionary<(string, string), Route[]> byEventSource = new();
    private readonly ConcurrentDictionary<(string, string), SourceInfo> sources = new();
    private readonly ConcurrentDictionary<string, int> applications = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, long> removed = new();

    public int RouteCount => byId.Count;

    public Route[] Routes(string application, string eventSource) =>
        byEventSource.TryGetValue((application, eventSource), out var routes) ? routes : [];

    public Route? Find(Guid webhookId) => byId.GetValueOrDefault(webhookId);

    /// <summary>Every webhook this node knows, as it knows it now.</summary>
    public IEnumerable<WebhookDefinition> Webhooks => byId.Values.Select(r => r.Definition);

    /// <summary>A live webhook by name (admin operations only: a scan, never on the publish path).</summary>
    public Route? FindByName(string name) => byId.Values.FirstOrDefault(r => r.Definition.Name == name);

    /// <summary>Whether this webhook's <paramref name="version"/> (or a later one, or its removal) is applied already.</summary>
    public bool Knows(Guid webhookId, long version) =>
        (byId.TryGetValue(webhookId, out var route) && route.Definition.Version >= version)
        || (removed.TryGetValue(webhookId, out var removedAt) && removedAt >= version);

    public SourceInfo? Source(string application, string eventSource) => sources.GetValueOrDefault((application, eventSource));

    public bool HasApplication(string application) => applications.ContainsKey(application);

    /// <summary>Applies a definition unless a newer version (or its removal) was seen already.</summary>
    public void Apply(WebhookDefinition webhook)
    {
        lock (gate)
        {
            if ((byId.TryGetValue(webhook.Id, out var current) && current.Definition.Version >= webhook.Version)
                || (removed.TryGetValue(webhook.Id, out var removedAt) && removedAt >= webhook.Version))
            {
                return;
            }

            if (current is not null)
            {
                Detach(current);
            }

            var route = new Route(webhook);
            byId[webhook.Id] = route;
            var key = (webhook.Application, webhook.EventSource);
            byEventSource[key] = [.. Routes(webhook.Application, webhook.EventSource), route];
        }
    }

    public void Remove(Guid webhookId, long version)
    {
        lock (gate)
        {
            removed[webhookId] = Math.Max(version, removed.GetValueOrDefault(webhookId));
            if (byId.TryRemove(webhookId, out var current))
            {
                Detach(current);
            }
        }
    }

    public void Apply(EventSourceView source)
    {
        lock (gate)
        {
            if (sources.TryAdd((source.Application, source.Name), Info(source)))
            {
                applications.AddOrUpdate(source.Application, 1, (_, count) => count + 1);
            }
            else
            {
                sources[(source.Application, source.Name)] = Info(source);
            }
        }
    }

    /// <summary>
    /// Forgets what the database no longer holds: the webhooks (and their removals) and event sources not among those
    /// given. A full reload calls it (after a lost connection, or against a database restored or wiped), so the index
    /// never keeps a route its database has lost.
    /// </summary>
    public void Retain(IReadOnlySet<Guid> webhookIds, IReadOnlySet<(string Application, string Name)> sourceKeys)
    {
        lock (gate)
        {
            foreach (var id in byId.Keys.Where(id => !webhookIds.Contains(id)).ToList())
            {
                if (byId.TryRemove(id, out var route))
                {
                    Detach(route);
                }
            }

            foreach (var id in removed.Keys.Where(id => !webhookIds.Contains(id)).ToList())
            {
                removed.TryRemove(id, out _);
            }

            foreach (var key in sources.Keys.Where(key => !sourceKeys.Contains(key)).ToList())
            {
                if (sources.TryRemove(key, out _) && applications.AddOrUpdate(key.Item1, 0, (_, count) => count - 1) <= 0)
                {
                    applications.TryRemove(key.Item1, out _);
                }
            }
        }
    }

    private void Detach(Route route)
    {
        var key = (route.Definition.Application, route.Definition.EventSource);
        var remaining = Routes(key.Application, key.EventSource).Where(r => r.Definition.Id != route.Definition.Id).ToArray();
        if (remaining.Length == 0)
        {
            byEventSource.TryRemove(key, out _);
        }
        else
        {
            byEventSource[key] = remaining;
        }
    }

    private static SourceInfo Info(EventSourceView source) => new(
        source.Application, source.Name, source.Entity, source.Table, source.Event,
        source.SampleRecord is null ? null : System.Text.Json.JsonSerializer.SerializeToElement(source.SampleRecord));
}
