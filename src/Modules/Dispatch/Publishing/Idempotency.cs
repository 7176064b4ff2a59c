using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using JasperFx;
using Marten;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Dispatch.Publishing;

/// <summary>
/// An Idempotency-Key's record, kept 24 hours, keyed by the caller and the key: claimed (<see cref="Done"/> false)
/// while a publish that calls sync webhooks is under way, then the first answer.
/// </summary>
public sealed class IdempotentPublish
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public string Id { get; set; } = "";
    public string Fingerprint { get; set; } = "";

    /// <summary>Which publish holds the claim: only it may complete or abandon it.</summary>
    public Guid Claim { get; set; }

    public bool Done { get; set; }
    public PublishResult? Result { get; set; }

    /// <summary>When the record may be replaced: 24 hours after the answer, or when a claim was abandoned (a host died).</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public static string IdFor(string actor, string key) => $"{actor}\n{key}";

    /// <summary>
    /// What makes two publishes the same event: the fields, and the record as canonical JSON (properties in ordinal
    /// order at every depth, strings unescaped), so a client that sends the same record with its fields reordered or
    /// escaped differently is answered as a repeat.
    /// </summary>
    public static string FingerprintOf(PublishEntityEvent e)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var field in (string?[])[e.Application, e.EventSource, e.ActionBy, e.ActionByName, e.CallingSessionId])
            {
                writer.WriteStringValue(field);
            }

            if (e.Record is { } record)
            {
                Canonical(record, writer);
            }

            writer.WriteEndArray();
        }

        hash.AppendData(buffer.WrittenSpan);
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static void Canonical(JsonElement element, Utf8JsonWriter writer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Canonical(property.Value, writer);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Canonical(item, writer);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}

/// <summary>
/// Makes an Idempotency-Key atomic: of any number of concurrent publishes with one key (on one node or several), one
/// publishes and the others get its answer. On one node, the first holds the key in memory and the others wait for
/// its answer. Across nodes, the first claims the key in the database (a unique insert, committed on its own before any
/// call or write), and the others find the claim and wait for the answer it is completed with (or get 409 if it is
/// still being made after <see cref="DispatchOptions.SyncTimeout"/> and a few seconds). The claim is completed in the
/// publish's own commit. A claim is a lease: the host holding it renews it every <see cref="RenewEvery"/> while the
/// publish lives, so a slow call or commit never loses it, and a claim whose host died lapses within
/// <see cref="ClaimLease"/> and is taken over.
/// </summary>
public sealed class Idempotency(IDocumentStore store, TimeProvider time, DispatchOptions options)
{
    public static readonly TimeSpan ClaimLease = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(5);

    public const string ReusedType = "urn:webhooks:idempotency-key-reused";
    public const string InFlightType = "urn:webhooks:idempotency-key-in-flight";

    private readonly ConcurrentDictionary<string, Holder> held = new(StringComparer.Ordinal);

    private TimeSpan Patience => options.SyncTimeout + TimeSpan.FromSeconds(5);

    /// <summary>
    /// The answer an earlier publish with this key gave (the caller returns it), or null once this publish holds the
    /// key, claimed in the database: it then writes <see cref="Record"/> in its commit and calls <see cref="Complete"/>,
    /// or calls <see cref="Abandon"/>.
    /// </summary>
    public async Task<PublishResult?> Begin(string id, string fingerprint, CancellationToken cancellation)
    {
        var started = time.GetUtcNow();
        while (true)
        {
            var mine = new Holder(fingerprint);
            if (!held.TryAdd(id, mine))
            {
                if (held.TryGetValue(id, out var other))
                {
                    Same(other.Fingerprint, fingerprint);
                    var answered = await Wait(other.Answer.Task, started, cancellation);
                    if (answered is not null)
                    {
                        return answered;
                    }
                }

                continue; // the holder gave up (or just finished): try again
            }

            try
            {
                var earlier = await Earlier(id, fingerprint, started, cancellation);
                if (earlier is not null)
                {
                    Release(id, mine, earlier);
                    return earlier;
                }

                if (await Claim(id, mine, cancellation))
                {
                    return null;
                }
            }
            catch
            {
                Release(id, mine, null);
                throw;
            }

            // Another node claimed the key between our read and our insert: read again, as a repeat.
            Release(id, mine, null);
        }
    }

    /// <summary>Completes this publish's claim with its answer, in the publish's own commit.</summary>
    public void Record(IDocumentSession session, string id, string fingerprint, PublishResult result)
    {
        var claim = held.TryGetValue(id, out var mine) ? mine.Claim : Guid.Empty;
        session.Store(new IdempotentPublish
        {
            Id = id,
            Fingerprint = fingerprint,
            Claim = claim,
            Done = true,
            Result = result,
            ExpiresAt = time.GetUtcNow() + IdempotentPublish.Lifetime,
        });
    }

    /// <summary>True when the claim's insert failed because another publish claimed the key first.</summary>
    private static bool LostTheRace(Exception failure) => failure is DocumentAlreadyExistsException
        || failure.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation };

    /// <summary>This publish answered: publishes waiting on the key get the same answer.</summary>
    public void Complete(string id, PublishResult result)
    {
        if (held.TryGetValue(id, out var mine))
        {
            Release(id, mine, result);
        }
    }

    /// <summary>Extends the lease of every claim this host holds (the sweep calls it every <see cref="RenewEvery"/>).</summary>
    public async Task RenewClaims(CancellationToken cancellation)
    {
        var claims = held.Values.Select(h => h.Claim).Where(c => c != Guid.Empty).Select(c => c.ToString()).ToArray();
        if (claims.Length == 0)
        {
            return;
        }

        var table = store.Options.Schema.For<IdempotentPublish>();
        await using var session = store.LightweightSession();
        // Only claims still open: a completed record keeps its 24 hours.
        session.QueueSqlCommand(
            $"update {table} set data = jsonb_set(data, '{{expiresAt}}', to_jsonb(?::timestamptz)) " +
            "where data ->> 'claim' = any(?) and not (data ->> 'done')::boolean",
            time.GetUtcNow() + ClaimLease, claims);
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>This publish gave up before answering (refused, failed): its claim is withdrawn and the key is free again.</summary>
    public async Task Abandon(string id)
    {
        if (!held.TryGetValue(id, out var mine))
        {
            return;
        }

        try
        {
            if (mine.Claim != Guid.Empty)
            {
                var claim = mine.Claim;
                await using var session = store.LightweightSession();
                session.DeleteWhere<IdempotentPublish>(x => x.Id == id && x.Claim == claim && !x.Done);
                await session.SaveChangesAsync(CancellationToken.None);
            }
        }
        finally
        {
            Release(id, mine, null);
        }
    }

    private void Release(string id, Holder holder, PublishResult? answer)
    {
        held.TryRemove(new KeyValuePair<string, Holder>(id, holder));
        holder.Answer.TrySetResult(answer);
    }

    /// <summary>The answered record, or null when there is none (or it expired); waits while another node holds a claim.</summary>
    private async Task<PublishResult?> Earlier(string id, string fingerprint, DateTimeOffset started, CancellationToken cancellation)
    {
        while (true)
        {
            IdempotentPublish? record;
            await using (var session = store.QuerySession())
            {
                record = await session.LoadAsync<IdempotentPublish>(id, cancellation);
            }

            if (record is null || record.ExpiresAt <= time.GetUtcNow())
            {
                return null;
            }

            Same(record.Fingerprint, fingerprint);
            if (record.Done)
            {
                return record.Result;
            }

            if (time.GetUtcNow() - started > Patience)
            {
                throw InFlight();
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellation);
        }
    }

    /// <summary>
    /// Inserts the claim in a transaction of its own (a unique violation is a lost race, never a failed group commit of
    /// other publishes); false when another publish's record stands.
    /// </summary>
    private async Task<bool> Claim(string id, Holder mine, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var claim = Guid.CreateVersion7();
        await using var session = store.LightweightSession();
        session.DeleteWhere<IdempotentPublish>(x => x.Id == id && x.ExpiresAt <= now);
        session.Insert(new IdempotentPublish { Id = id, Fingerprint = mine.Fingerprint, Claim = claim, ExpiresAt = now + ClaimLease });
        try
        {
            await session.SaveChangesAsync(cancellation);
            mine.Claim = claim;
            return true;
        }
        catch (Exception failure) when (LostTheRace(failure))
        {
            return false;
        }
    }

    private async Task<PublishResult?> Wait(Task<PublishResult?> answer, DateTimeOffset started, CancellationToken cancellation)
    {
        var left = Patience - (time.GetUtcNow() - started);
        try
        {
            return await answer.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, time, cancellation);
        }
        catch (TimeoutException)
        {
            throw InFlight();
        }
    }

    private static PublishRefusedException InFlight() => new(
        new ProblemDetails
        {
            Type = InFlightType,
            Title = "Idempotency-Key in use",
            Status = StatusCodes.Status409Conflict,
            Detail = "A publish with this Idempotency-Key is still being made (its synchronous webhooks have not all answered). " +
                "Send it again in a moment to get its answer.",
        },
        TimeSpan.FromSeconds(1));

    internal static void Same(string recorded, string fingerprint)
    {
        if (recorded != fingerprint)
        {
            throw new PublishRefusedException(new ProblemDetails
            {
                Type = ReusedType,
                Title = "Idempotency-Key reused",
                Status = StatusCodes.Status422UnprocessableEntity,
                Detail = "This Idempotency-Key was used in the last 24 hours for a different event. Use a new key for a new event.",
            });
        }
    }

    /// <summary>This node's publish holding a key; the others with the key wait for its answer (null: it gave up).</summary>
    private sealed class Holder(string fingerprint)
    {
        public string Fingerprint { get; } = fingerprint;

        /// <summary>The claim this publish holds in the database, once it holds one.</summary>
        public Guid Claim { get; set; }

        public TaskCompletionSource<PublishResult?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Renews this host's claims every five seconds, and deletes records past their 24 hours every ten minutes.</summary>
public sealed partial class IdempotencySweep(IDocumentStore store, Idempotency idempotency, TimeProvider time, ILogger<IdempotencySweep> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    public async Task Sweep(CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        await using var session = store.LightweightSession();
        session.DeleteWhere<IdempotentPublish>(x => x.ExpiresAt <= now);
        await session.SaveChangesAsync(cancellation);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Idempotency.RenewEvery, time);
        var nextSweep = time.GetUtcNow() + Interval;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await idempotency.RenewClaims(stoppingToken);
                    if (time.GetUtcNow() >= nextSweep)
                    {
                        nextSweep = time.GetUtcNow() + Interval;
                        await Sweep(stoppingToken);
                    }
                }
                catch (Exception failure) when (failure is not OperationCanceledException)
                {
                    LogSweepFailed(failure);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(LogLevel.Warning, "Idempotency-Key claims could not be renewed or expired records deleted; trying again shortly")]
    private partial void LogSweepFailed(Exception exception);
}
