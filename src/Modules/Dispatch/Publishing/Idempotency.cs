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
/// its answer. Across nodes, a publish that calls sync webhooks first claims the key in the database (a unique
/// insert, committed before any call), and one without sync calls inserts the key with its event in one commit; the
/// loser of either race finds the winner's record and answers with it (or 409 if the winner is still calling after
/// <see cref="DispatchOptions.SyncTimeout"/> and a few seconds).
/// </summary>
public sealed class Idempotency(IDocumentStore store, TimeProvider time, DispatchOptions options)
{
    public const string ReusedType = "urn:webhooks:idempotency-key-reused";
    public const string InFlightType = "urn:webhooks:idempotency-key-in-flight";

    private readonly ConcurrentDictionary<string, Holder> held = new(StringComparer.Ordinal);

    /// <summary>How long a claim stands without an answer before another publish may take the key over.</summary>
    private TimeSpan ClaimLifetime => options.SyncTimeout + TimeSpan.FromSeconds(30);

    private TimeSpan Patience => options.SyncTimeout + TimeSpan.FromSeconds(5);

    /// <summary>
    /// The answer an earlier publish with this key gave (the caller returns it), or null once this publish holds the
    /// key: it then calls <see cref="Complete"/> or <see cref="Abandon"/>. <paramref name="claim"/>: claim the key in
    /// the database now, before sync calls, rather than with the commit.
    /// </summary>
    public async Task<PublishResult?> Begin(string id, string fingerprint, bool claim, CancellationToken cancellation)
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

                if (!claim || await Claim(id, fingerprint, cancellation))
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

    /// <summary>Writes the key's record, with the answer, in the publish's own commit.</summary>
    public void Record(IDocumentSession session, string id, string fingerprint, PublishResult result)
    {
        var now = time.GetUtcNow();
        var record = new IdempotentPublish { Id = id, Fingerprint = fingerprint, Done = true, Result = result, ExpiresAt = now + IdempotentPublish.Lifetime };
        if (held.TryGetValue(id, out var mine) && mine.Claimed)
        {
            session.Store(record);
        }
        else
        {
            // Inserted, not stored: a record another node committed meanwhile makes this commit fail, and this
            // publish then answers with that node's answer (see Winner).
            session.DeleteWhere<IdempotentPublish>(x => x.Id == id && x.ExpiresAt <= now);
            session.Insert(record);
        }
    }

    /// <summary>True when a commit failed because another node recorded this key first.</summary>
    public static bool LostTheRace(Exception failure) => failure is DocumentAlreadyExistsException
        || failure.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation };

    /// <summary>The answer of the publish that recorded this key first (after <see cref="LostTheRace"/>).</summary>
    public async Task<PublishResult> Winner(string id, string fingerprint, CancellationToken cancellation) =>
        await Earlier(id, fingerprint, time.GetUtcNow(), cancellation)
        ?? throw new InvalidOperationException($"The Idempotency-Key record {id} vanished after a unique violation.");

    /// <summary>This publish answered: publishes waiting on the key get the same answer.</summary>
    public void Complete(string id, PublishResult result)
    {
        if (held.TryGetValue(id, out var mine))
        {
            Release(id, mine, result);
        }
    }

    /// <summary>This publish gave up before answering (refused, failed): the key is free again.</summary>
    public async Task Abandon(string id)
    {
        if (!held.TryGetValue(id, out var mine))
        {
            return;
        }

        try
        {
            if (mine.Claimed)
            {
                await using var session = store.LightweightSession();
                session.DeleteWhere<IdempotentPublish>(x => x.Id == id && !x.Done);
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

    /// <summary>Inserts the claim in a transaction of its own; false when another node's record stands.</summary>
    private async Task<bool> Claim(string id, string fingerprint, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        await using var session = store.LightweightSession();
        session.DeleteWhere<IdempotentPublish>(x => x.Id == id && x.ExpiresAt <= now);
        session.Insert(new IdempotentPublish { Id = id, Fingerprint = fingerprint, ExpiresAt = now + ClaimLifetime });
        try
        {
            await session.SaveChangesAsync(cancellation);
            held[id].Claimed = true;
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

    private static void Same(string recorded, string fingerprint)
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

        public bool Claimed { get; set; }

        public TaskCompletionSource<PublishResult?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Deletes Idempotency-Key records past their 24 hours (and abandoned claims), every ten minutes.</summary>
public sealed partial class IdempotencySweep(IDocumentStore store, TimeProvider time, ILogger<IdempotencySweep> logger) : BackgroundService
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
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await Sweep(stoppingToken);
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

    [LoggerMessage(LogLevel.Warning, "Expired Idempotency-Key records could not be deleted; trying again in ten minutes")]
    private partial void LogSweepFailed(Exception exception);
}
