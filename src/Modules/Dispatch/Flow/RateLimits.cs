using System.Collections.Concurrent;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;
using Webhooks.Definitions.Contracts;

namespace Webhooks.Dispatch.Flow;

/// <summary>
/// Webhooks' rate limits (issue 15), honoured across every host sharing the database: one token bucket per webhook in
/// PostgreSQL (refilled at its rate up to its burst, by the database's clock). A host takes a tenth of a second's worth
/// of tokens at a time (one round trip for several calls) and spends them within a second or lets them go; tokens
/// taken are never given back, so the cluster never exceeds the limit (it may fall a little short). A delivery that
/// finds no token waits for a slot: this host spaces its waiting deliveries one rate interval apart, so they do not all
/// come back at once. A target's 429 with Retry-After pauses its webhook's deliveries on this host until then, with a
/// rate limit or without (each host learns it from the 429s it gets).
/// </summary>
public sealed class RateLimits(NpgsqlDataSource database, Marten.IDocumentStore store, TimeProvider time)
{
    public const string TableName = "webhooks_rate_buckets";

    /// <summary>How long tokens taken by a host may be spent before they are let go.</summary>
    public static readonly TimeSpan LeaseLifetime = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Guid, Local> locals = new();
    private readonly string table = $"{store.Options.DatabaseSchemaName}.{TableName}";

    /// <summary>The bucket table: one of Marten's extended schema objects, so it is created and migrated with the rest on start.</summary>
    public static Table Table(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<Guid>("webhook_id").AsPrimaryKey();
        table.AddColumn("tokens", "double precision").NotNull();
        table.AddColumn("updated_at", "timestamp with time zone").NotNull();
        return table;
    }

    /// <summary>Null when the call may go now; else when to come back.</summary>
    public async ValueTask<DateTimeOffset?> TryTake(WebhookDefinition webhook, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        if (!locals.TryGetValue(webhook.Id, out var local))
        {
            if (webhook.RateLimit is null)
            {
                return null; // the common case: nothing to ask
            }

            local = locals.GetOrAdd(webhook.Id, _ => new Local());
        }

        lock (local)
        {
            if (local.PausedUntil > now)
            {
                return Slot(local, local.PausedUntil, webhook.RateLimit);
            }

            if (webhook.RateLimit is null)
            {
                return null;
            }

            if (local.Tokens > 0 && local.LeaseUntil > now)
            {
                local.Tokens--;
                return null;
            }
        }

        var limit = webhook.RateLimit;
        var rate = limit.PerSecond!.Value;
        var burst = limit.Burst ?? Math.Max(1, (int)Math.Ceiling(rate));
        var want = Math.Max(1, (int)Math.Ceiling(rate / 10));
        await local.Taking.WaitAsync(cancellation);
        try
        {
            lock (local)
            {
                // Another call of this host took some meanwhile.
                if (local.Tokens > 0 && local.LeaseUntil > now)
                {
                    local.Tokens--;
                    return null;
                }
            }

            var (granted, available) = await Take(webhook.Id, rate, burst, want, cancellation);
            lock (local)
            {
                if (granted > 0)
                {
                    (local.Tokens, local.LeaseUntil) = (granted - 1, time.GetUtcNow() + LeaseLifetime);
                    return null;
                }

                var refill = TimeSpan.FromSeconds(Math.Max(0, 1 - available) / rate);
                return Slot(local, time.GetUtcNow() + refill, limit);
            }
        }
        finally
        {
            local.Taking.Release();
        }
    }

    /// <summary>A target answered 429 with Retry-After: this host's deliveries to it wait until then.</summary>
    public void Slow(Guid webhookId, TimeSpan retryAfter)
    {
        var local = locals.GetOrAdd(webhookId, _ => new Local());
        var until = time.GetUtcNow() + retryAfter;
        lock (local)
        {
            if (until > local.PausedUntil)
            {
                local.PausedUntil = until;
            }
        }
    }

    /// <summary>The next free slot at or after <paramref name="earliest"/>, one rate interval after the last one handed out.</summary>
    private static DateTimeOffset Slot(Local local, DateTimeOffset earliest, RateLimit? limit)
    {
        var interval = limit?.PerSecond is { } rate ? TimeSpan.FromSeconds(1 / rate) : TimeSpan.FromMilliseconds(10);
        var slot = local.NextSlot > earliest ? local.NextSlot : earliest;
        local.NextSlot = slot + interval;
        return slot;
    }

    /// <summary>Takes up to <paramref name="want"/> whole tokens from the webhook's bucket; what it got, and what was there.</summary>
    private async Task<(int Granted, double Available)> Take(Guid webhookId, double rate, int burst, int want, CancellationToken cancellation)
    {
        await using var batch = database.CreateBatch();
        // A new bucket starts full; the bucket refills by the database's clock, so every host sees one time.
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"insert into {table} (webhook_id, tokens, updated_at) values ($1, $2, clock_timestamp()) on conflict (webhook_id) do nothing")
        {
            Parameters = { new() { Value = webhookId }, new() { Value = (double)burst } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
            with b as (
              select least($2, tokens + extract(epoch from clock_timestamp() - updated_at) * $3) as available
              from {table} where webhook_id = $1 for update)
            update {table} t
            set tokens = b.available - least(floor(b.available), $4), updated_at = clock_timestamp()
            from b where t.webhook_id = $1
            returning least(floor(b.available), $4)::int, b.available
            """)
        {
            Parameters =
            {
                new() { Value = webhookId }, new() { Value = (double)burst }, new() { Value = rate }, new() { Value = (double)want },
            },
        });
        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        do
        {
            // The update's row (the insert returns none: whether the reader shows its empty result depends on Npgsql).
            if (reader.FieldCount == 2 && await reader.ReadAsync(cancellation))
            {
                return (reader.GetInt32(0), reader.GetDouble(1));
            }
        }
        while (await reader.NextResultAsync(cancellation));

        return (0, 0);
    }

#pragma warning disable CA1001 // One per rate-limited webhook for the host's life; a semaphore without a wait handle holds nothing to dispose.
    private sealed class Local
    {
        public int Tokens;
        public DateTimeOffset LeaseUntil;
        public DateTimeOffset PausedUntil;
        public DateTimeOffset NextSlot;
        public readonly SemaphoreSlim Taking = new(1, 1);
    }
#pragma warning restore CA1001
}