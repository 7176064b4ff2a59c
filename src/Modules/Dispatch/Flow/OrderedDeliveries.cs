using System.Runtime.CompilerServices;
using System.Text.Json;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Delivery;
using Wolverine;
using Wolverine.RDBMS;
using Wolverine.Runtime;

namespace Webhooks.Dispatch.Flow;

/// <summary>Where an ordered delivery stands in its key's queue.</summary>
/// <param name="Key">Its ordering key.</param>
/// <param name="Head">Whether it is the first of its key's queue (the one that may be made).</param>
/// <param name="Ahead">The delivery at the head, when it is not.</param>
public sealed record OrderedPlace(string Key, bool Head, Guid? Ahead);

/// <summary>
/// Ordered delivery (issue 15): one queue per webhook and ordering key, in PostgreSQL, so that every host sharing the
/// database sees it. A delivery joins its queue in the commit that accepts its event, under a transaction-scoped lock of
/// its key, so that the queue's order is the order the publishes committed in, whichever host took them. Only the head
/// of a queue is made (retried as usual while it fails); one that comes due behind it parks (its message dropped, its
/// body kept in the queue). When the head succeeds or fails for good it leaves the queue, and the next one is woken: at
/// once by the host that finished it, or within <see cref="SweepInterval"/> by any host's sweep (a host that died in
/// between, a park that raced the wake). Waking claims a parked head by one update, so only one host sends it.
/// </summary>
public sealed class OrderedDeliveries(NpgsqlDataSource database, IDocumentStore store, IServiceProvider services)
{
    public const string TableName = "webhooks_ordered";
    public const int MaxKeyLength = 200;
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(2);

    private readonly string table = $"{store.Options.DatabaseSchemaName}.{TableName}";
    private readonly ConditionalWeakTable<IDocumentSession, Joining> joining = [];

    /// <summary>The queue table: one of Marten's extended schema objects, so it is created and migrated with the rest on start.</summary>
    public static Table Table(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn("seq", "bigserial").AsPrimaryKey();
        table.AddColumn<Guid>("webhook_id").NotNull();
        table.AddColumn("key", "text").NotNull();
        table.AddColumn<Guid>("delivery_id").NotNull();
        table.AddColumn<Guid>("event_id").NotNull();
        table.AddColumn("body", "bytea").NotNull();
        table.AddColumn("state", "text").NotNull();
        table.AddColumn("trace_parent", "text"); // the publish's trace context: its attempts stay in its trace (issue 16)
        table.Indexes.Add(new IndexDefinition($"{TableName}_idx_queue") { Columns = ["webhook_id", "key", "seq"] });
        table.Indexes.Add(new IndexDefinition($"{TableName}_idx_delivery") { Columns = ["delivery_id"], IsUnique = true });
        return table;
    }

    /// <summary>The record's ordering key for the webhook, or null when it is not ordered or the record has no such field.</summary>
    public static string? Key(WebhookDefinition webhook, JsonElement record)
    {
        if (webhook.Ordering is not { Enabled: true } ordering || record.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        JsonElement value;
        if (ordering.Key is { } named)
        {
            if (!record.TryGetProperty(named, out value))
            {
                return null;
            }
        }
        else
        {
            var primary = record.EnumerateObject().Where(p => p.Name.StartsWith("h_pk_", StringComparison.Ordinal)).Select(p => (JsonElement?)p.Value).FirstOrDefault();
            if (primary is null)
            {
                return null;
            }

            value = primary.Value;
        }

        var key = value.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            JsonValueKind.String => value.GetString(),
            _ => value.GetRawText(),
        };
        // A long value (a record may be 256 KiB) is kept as its SHA-256: the queue's index takes keys of a bounded size.
        return key is { Length: > MaxKeyLength }
            ? "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))
            : key;
    }

    /// <summary>
    /// Joins the delivery to its key's queue in the accepting commit. The rows are written when the commit is saved (with
    /// its other work: Marten calls a session's listeners only when it has some, and an accepting commit always does), in
    /// the order of their keys' locks: a commit takes its keys' transaction locks in one global order (a 64-bit hash of
    /// webhook and key, ascending), so two commits sharing keys wait for each other instead of deadlocking (PostgreSQL
    /// would abort one of them a second later). Deliveries of one key keep their order among themselves (a stable sort).
    /// </summary>
    public void Enqueue(IDocumentSession session, DeliverWebhook delivery, string key)
    {
        if (!joining.TryGetValue(session, out var join))
        {
            join = new Joining(table);
            joining.Add(session, join);
            session.Listeners.Add(join);
        }

        join.Add(delivery, key);
    }

    /// <summary>The transaction lock of a webhook's key: the first 8 bytes of SHA-256 over both, the same on every host.</summary>
    public static long LockOf(Guid webhookId, string key)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{webhookId:N}|{key}"), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    /// <summary>A commit's deliveries joining their queues: written just before it is saved, in lock order.</summary>
    private sealed class Joining(string table) : DocumentSessionListenerBase
    {
        private readonly List<(long Lock, DeliverWebhook Delivery, string Key)> entries = [];

        public void Add(DeliverWebhook delivery, string key) => entries.Add((LockOf(delivery.WebhookId, key), delivery, key));

        public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
        {
            // Each key's lock is taken in the statement that inserts its row (a batch's statements may not return rows of
            // their own) and held until the commit ends: the sequence is drawn in commit order, across hosts.
            foreach (var (lockId, delivery, key) in entries.OrderBy(e => e.Lock))
            {
                session.QueueSqlCommand(
                    $"insert into {table} (webhook_id, key, delivery_id, event_id, body, state, trace_parent) " +
                    "select ?, ?, ?, ?, ?, 'new', ? from (select pg_advisory_xact_lock(?)) as locked on conflict do nothing",
                    delivery.WebhookId, key, delivery.DeliveryId, delivery.EventId, delivery.Body, (object?)delivery.TraceParent ?? DBNull.Value, lockId);
            }

            entries.Clear();
            return Task.CompletedTask;
        }
    }

    /// <summary>Where the delivery stands; null when it is in no queue (not ordered, or a redelivery: made at once).</summary>
    public async Task<OrderedPlace?> Place(Guid deliveryId, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand($"""
            select o.key, h.delivery_id
            from {table} o
            join lateral (select delivery_id from {table} p where p.webhook_id = o.webhook_id and p.key = o.key order by p.seq limit 1) h on true
            where o.delivery_id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = deliveryId, NpgsqlDbType = NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        if (!await reader.ReadAsync(cancellation))
        {
            return null;
        }

        var head = reader.GetGuid(1);
        return new OrderedPlace(reader.GetString(0), head == deliveryId, head == deliveryId ? null : head);
    }

    /// <summary>In the commit that records why: the delivery waits, parked, its message dropped.</summary>
    public void Park(IDocumentSession session, Guid deliveryId) =>
        session.QueueSqlCommand($"update {table} set state = 'parked' where delivery_id = ?", deliveryId);

    /// <summary>In the commit that records its outcome: the delivery leaves its queue.</summary>
    public void Leave(IDocumentSession session, Guid deliveryId) =>
        session.QueueSqlCommand($"delete from {table} where delivery_id = ?", deliveryId);

    /// <summary>
    /// After a head left its queue, or a delivery parked: sends the key's head if it is parked (one waker wins). Never
    /// throws: what it could not do, the sweep does.
    /// </summary>
    public async Task Wake(Guid webhookId, string key, CancellationToken cancellation)
    {
        try
        {
            await ClaimAndSend(
                $"""
                update {table} o set state = 'sent'
                where seq = (select seq from {table} where webhook_id = $1 and key = $2 order by seq limit 1) and state = 'parked'
                returning o.delivery_id, o.event_id, o.webhook_id, o.body, o.trace_parent
                """,
                [new NpgsqlParameter { Value = webhookId, NpgsqlDbType = NpgsqlDbType.Uuid }, new NpgsqlParameter { Value = key, NpgsqlDbType = NpgsqlDbType.Text }],
                cancellation);
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            // Never after a commit: what it could not do, the sweep does.
            _ = failure;
        }
    }

    /// <summary>Claims every parked head (a sweep) and sends them; how many.</summary>
    public Task<int> SendParkedHeads(CancellationToken cancellation) => ClaimAndSend(
        $"""
        update {table} o set state = 'sent'
        where o.state = 'parked'
          and not exists (select 1 from {table} p where p.webhook_id = o.webhook_id and p.key = o.key and p.seq < o.seq)
        returning o.delivery_id, o.event_id, o.webhook_id, o.body, o.trace_parent
        """,
        [],
        cancellation);

    /// <summary>
    /// Claims parked heads and makes their messages in one transaction of our own: the claim and the messages' inbox rows
    /// commit together (Wolverine's outbox enlisted in it), so a host that dies in between leaves either both undone (the
    /// head still parked, for the next sweep) or both done (the message durable in the inbox, recovered with the rest of
    /// the host's work). Not through a Marten session: its commit is retried in a new transaction after some errors, with
    /// the queued envelopes but without the claim, which would send a head twice.
    /// </summary>
    private async Task<int> ClaimAndSend(string claim, NpgsqlParameter[] parameters, CancellationToken cancellation)
    {
        var runtime = services.GetRequiredService<IWolverineRuntime>();
        var inbox = runtime.Storage as IMessageDatabase
            ?? throw new InvalidOperationException($"Ordered delivery needs Wolverine's PostgreSQL message store, not {runtime.Storage.GetType().Name}.");
        await using var connection = await database.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var claimed = new List<DeliverWebhook>();
        await using (var command = new NpgsqlCommand(claim, connection, transaction))
        {
            command.Parameters.AddRange(parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                claimed.Add(new DeliverWebhook(
                    reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), 1, reader.GetFieldValue<byte[]>(3), Ordered: true,
                    TraceParent: reader.IsDBNull(4) ? null : reader.GetString(4)));
            }
        }

        if (claimed.Count == 0)
        {
            return 0; // nothing claimed: the transaction ends with the connection
        }

        var bus = new MessageContext(runtime);
        await bus.EnlistInOutboxAsync(new DatabaseEnvelopeTransaction(inbox, transaction));
        foreach (var delivery in claimed)
        {
            await bus.PublishAsync(delivery);
        }

        if (bus.Outstanding.Count() != claimed.Count)
        {
            throw new InvalidOperationException($"Claimed {claimed.Count} ordered deliveries but made {bus.Outstanding.Count()} messages: none is sent.");
        }

        await transaction.CommitAsync(cancellation);
        await bus.FlushOutgoingMessagesAsync();
        return claimed.Count;
    }

    /// <summary>Every host sweeps: parked heads whose wake was lost (a host died in between, a park raced it) are sent.</summary>
    public sealed class Sweep(OrderedDeliveries ordered) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            using var timer = new PeriodicTimer(SweepInterval);
            try
            {
                while (await timer.WaitForNextTickAsync(stoppingToken))
                {
                    try
                    {
                        await ordered.SendParkedHeads(stoppingToken);
                    }
                    catch (Exception failure) when (failure is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        // The database is away, or anything else: the next sweep tries again; the host goes on.
                        _ = failure;
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
        }
    }
}
