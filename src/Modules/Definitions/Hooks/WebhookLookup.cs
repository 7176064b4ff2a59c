using Marten;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Wolverine;

namespace Webhooks.Definitions.Hooks;

/// <summary>The API addresses webhooks by name; their streams are keyed by id. The name is resolved here only.</summary>
internal static class WebhookLookup
{
    public static Task<Webhook?> ByName(IQuerySession session, string name, CancellationToken cancellation) =>
        session.Query<Webhook>().FirstOrDefaultAsync(w => w.Name == name, cancellation);

    /// <summary>The id of the live webhook named <paramref name="name"/>, from the unique index on the snapshots' names.</summary>
    public static async Task<Guid?> IdOf(IQuerySession session, string name, CancellationToken cancellation) =>
        (await session.Query<Webhook>().Where(w => w.Name == name).Select(w => new { w.Id }).FirstOrDefaultAsync(cancellation))?.Id;

    public static ProblemDetails NotFound(string name) => Problems.NotFound($"There is no webhook named '{name}'.");

    public static ProblemDetails NameTaken(string name) =>
        Problems.Conflict($"A webhook named '{name}' exists already; names are unique among live webhooks.");

    /// <summary>
    /// A change to the webhook named <paramref name="name"/>: its id resolved here, then <paramref name="command"/>'s
    /// handler run on its stream; not found is the same 404 whether the name is unknown here or gone by then.
    /// </summary>
    public static async Task<WebhookWrite> Change(
        IQuerySession session, IMessageBus bus, string name, Func<Guid, object> command, CancellationToken cancellation) =>
        await IdOf(session, name, cancellation) is { } id
            ? await bus.InvokeAsync<WebhookWrite>(command(id), cancellation)
            : new WebhookWrite(null, NotFound(name));

    /// <summary>What every change to a named webhook is refused for first: not found (404), or stale against If-Match (412).</summary>
    public static ProblemDetails? Refusal(Webhook? webhook, string name, string? ifMatch) =>
        webhook is null ? NotFound(name) : Versions.Stale(ifMatch, webhook.Version, $"The webhook '{webhook.Name}'");

    /// <summary>
    /// Runs a write's handler. A definition or rename that lost a race for its name to one committed meanwhile is
    /// refused by the unique index on names: answered as the same 409 as when the name was taken before.
    /// </summary>
    public static async Task<WebhookWrite> Write(IMessageBus bus, object command, string name, CancellationToken cancellation)
    {
        try
        {
            return await bus.InvokeAsync<WebhookWrite>(command, cancellation);
        }
        catch (Exception e) when (NameIndexViolated(e))
        {
            return new WebhookWrite(null, NameTaken(name));
        }
    }

    private static bool NameIndexViolated(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation, ConstraintName: NameIndex })
            {
                return true;
            }
        }

        return false;
    }

    public const string NameIndex = "uidx_definitions_webhook_name";

    public static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}
