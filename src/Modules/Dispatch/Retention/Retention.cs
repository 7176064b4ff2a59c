using System.Buffers.Binary;
using System.Text.Json;
using JasperFx.Events;
using Marten;
using Marten.Events;
using Marten.Events.Archiving;
using Marten.Services;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Webhooks.BuildingBlocks;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.History;

namespace Webhooks.Dispatch.Retention;

/// <summary>
/// Keeps storage bounded (issue 16), in two steps, each in small transactions of its own beside the deliveries:
/// <list type="number">
/// <item><b>Payloads</b> (<see cref="RetentionOptions.Payloads"/>, 30 days): the application's record in each
/// <see cref="EventPublished"/> and the response excerpt in each <see cref="DeliveryAttempted"/> are removed by Marten's
/// event data masking (the event, its sequence and version stay: the history replays the same, without the bodies), and
/// the excerpts in the delivery log with them. Each says when (<c>recordRemovedAt</c>, <c>payloadRemovedAt</c>).</item>
/// <item><b>Records</b> (<see cref="RetentionOptions.Deliveries"/>, 90 days): an event's stream, once none of its
/// deliveries is pending, gets a last event carrying its deliveries' log entries (<see cref="DeliveriesArchived"/>) and
/// moves to the archive (Marten's archived-stream partitioning: the archived partition of <c>mt_events</c> and
/// <c>mt_streams</c>, which no hot read touches); its log entries leave the log; the commits' ledgers go with them.
/// <c>GET /events/{id}</c> still answers from the archive; <c>GET /deliveries/{id}</c> answers 410 with when.</item>
/// </list>
/// Only Dispatch's streams are touched: configuration (definitions, KeySafe) is the audit trail and is never pruned.
/// One host of a cluster runs it at a time (a session advisory lock); where it got to is a document
/// (<see cref="RetentionState"/>), so a run resumes where the last one stopped and never reads a row twice.
/// </summary>
public sealed partial class Retention(
    IDocumentStore store, NpgsqlDataSource database, IOptions<RetentionOptions> settings, TimeProvider time, ILogger<Retention> logger)
{
    /// <summary>The advisory lock only the host running retention holds (any constant; "retention" in ASCII).</summary>
    public const long LeaderLock = 0x7265_7465_6e74_696f;

    /// <summary>What an <see cref="EventPublished"/>'s record becomes once removed (a JSON null).</summary>
    public static readonly JsonElement RemovedRecord = JsonDocument.Parse("null").RootElement;

    private RetentionOptions Options => settings.Value;

    /// <summary>The masking rules: Marten applies them to the events a run includes (<see cref="RemovePayloads"/>).</summary>
    public static void AddMaskingRules(StoreOptions opts, TimeProvider time)
    {
        opts.Events.AddMaskingRuleForProtectedInformation<EventPublished>(e => e with { Record = RemovedRecord, RecordRemovedAt = time.GetUtcNow() });
        opts.Events.AddMaskingRuleForProtectedInformation<DeliveryAttempted>(e => e with { ResponseExcerpt = null, ExcerptRemovedAt = time.GetUtcNow() });
    }

    /// <summary>
    /// One run: payloads older than <see cref="RetentionOptions.Payloads"/> before <paramref name="now"/> removed, then
    /// records older than <see cref="RetentionOptions.Deliveries"/> archived, batch after batch until none is left.
    /// Null when another host holds the job.
    /// </summary>
    public async Task<RetentionRun?> Run(DateTimeOffset now, CancellationToken cancellation)
    {
        await using var leader = await database.OpenConnectionAsync(cancellation);
        await using (var take = new NpgsqlCommand("select pg_try_advisory_lock($1)", leader) { Parameters = { new() { Value = LeaderLock } } })
        {
            if (!(bool)(await take.ExecuteScalarAsync(cancellation))!)
            {
                return null;
            }
        }

        try
        {
            var run = new RetentionRun();
            await RemovePayloads(now - Options.Payloads, run, cancellation);
            await ArchiveRecords(now - Options.Deliveries, run, cancellation);
            if (run.PayloadsRemoved + run.LogEntriesCleared + run.DeliveriesArchived + run.StreamsArchived > 0)
            {
                LogRun(run.PayloadsRemoved, run.LogEntriesCleared, run.DeliveriesArchived, run.StreamsArchived, run.EventsHeld);
            }

            return run;
        }
        finally
        {
            await using var release = new NpgsqlCommand("select pg_advisory_unlock($1)", leader) { Parameters = { new() { Value = LeaderLock } } };
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    /// <summary>The state, or a new one.</summary>
    public async Task<RetentionState> State(CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<RetentionState>(RetentionState.TheId, cancellation) ?? new RetentionState();
    }

    private async Task Save(RetentionState state, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        session.Store(state);
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>Masks the events up to <paramref name="cutoff"/> (by their sequence), then clears the log's excerpts.</summary>
    private async Task RemovePayloads(DateTimeOffset cutoff, RetentionRun run, CancellationToken cancellation)
    {
        var state = await State(cancellation);
        var published = ((DocumentStore)store).Events.EventMappingFor(typeof(EventPublished)).EventTypeName;
        var attempted = ((DocumentStore)store).Events.EventMappingFor(typeof(DeliveryAttempted)).EventTypeName;
        while (!cancellation.IsCancellationRequested)
        {
            // The next events in sequence order, up to the first one made after the cutoff.
            var (through, masked, rows, reachedCutoff) = (state.PayloadsRemovedThrough, 0, 0, false);
            await using (var window = database.CreateCommand(
                "select seq_id, timestamp, type from webhooks.mt_events where seq_id > $1 order by seq_id limit $2"))
            {
                window.Parameters.Add(new() { Value = state.PayloadsRemovedThrough });
                window.Parameters.Add(new() { Value = Options.BatchSize * 4 });
                await using var reader = await window.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation))
                {
                    rows++;
                    if (reader.GetFieldValue<DateTimeOffset>(1) >= cutoff)
                    {
                        reachedCutoff = true;
                        break;
                    }

                    through = reader.GetInt64(0);
                    masked += reader.GetString(2) == published || reader.GetString(2) == attempted ? 1 : 0;
                }
            }

            if (through == state.PayloadsRemovedThrough)
            {
                break;
            }

            var from = state.PayloadsRemovedThrough;
            if (masked > 0)
            {
                await store.Advanced.ApplyEventDataMasking(
                    m => m.IncludeEvents(e => e.Sequence > from && e.Sequence <= through && e.EventTypesAre(typeof(EventPublished), typeof(DeliveryAttempted))),
                    cancellation);
            }

            state.PayloadsRemovedThrough = through;
            await Save(state, cancellation);
            run.PayloadsRemoved += masked;
            Telemetry.RetentionPayloadsRemoved.Add(masked);
            if (reachedCutoff || rows < Options.BatchSize * 4)
            {
                break;
            }
        }

        // The log's copies of the excerpts: its entries created up to the cutoff, a batch of creation times at a time (an
        // event's deliveries share one; a batch ends after all of them).
        while (!cancellation.IsCancellationRequested)
        {
            await using var clear = database.CreateCommand("""
                with bound as (
                  select coalesce((select created_at from webhooks.mt_doc_deliverylog
                                   where created_at > $1 and created_at < $2 order by created_at offset $3 limit 1), $2) as upto),
                cleared as (
                  update webhooks.mt_doc_deliverylog d
                  set data = jsonb_set(d.data, '{payloadRemovedAt}', to_jsonb($4::timestamptz))
                             || jsonb_build_object('attempts', coalesce((
                                  select jsonb_agg(case when a ? 'responseExcerpt' then jsonb_set(a, '{responseExcerpt}', 'null') else a end order by n)
                                  from jsonb_array_elements(d.data -> 'attempts') with ordinality x(a, n)), '[]'::jsonb))
                  from bound
                  where d.created_at > $1 and d.created_at < $2 and d.created_at <= bound.upto
                  returning d.created_at)
                select count(*), (select upto from bound) from cleared
                """);
            clear.Parameters.Add(new() { Value = state.LogClearedThrough });
            clear.Parameters.Add(new() { Value = cutoff });
            clear.Parameters.Add(new() { Value = Options.BatchSize - 1 });
            clear.Parameters.Add(new() { Value = time.GetUtcNow() });
            long cleared;
            DateTimeOffset upto;
            // (Disposed once only: Npgsql hands a disposed reader's connection, with the reader object, to the next command.)
            await using (var reader = await clear.ExecuteReaderAsync(cancellation))
            {
                await reader.ReadAsync(cancellation);
                cleared = reader.GetInt64(0);
                upto = reader.GetFieldValue<DateTimeOffset>(1);
            }

            if (cleared == 0)
            {
                break;
            }

            state.LogClearedThrough = upto;
            await Save(state, cancellation);
            run.LogEntriesCleared += cleared;
        }
    }

    /// <summary>Archives the event streams and ledgers made before <paramref name="cutoff"/>, in stream id (time) order.</summary>
    private async Task ArchiveRecords(DateTimeOffset cutoff, RetentionRun run, CancellationToken cancellation)
    {
        var state = await State(cancellation);
        var floor = Uuid7Floor(cutoff);
        var startedAt = time.GetUtcNow();

        await ArchiveHeld(run, cancellation);

        while (!cancellation.IsCancellationRequested)
        {
            var streams = await Ids(
                "select id from webhooks.mt_streams where id > $1 and is_archived = false and id < $3 order by id limit $2", state.StreamsArchivedThrough, floor, cancellation);

            if (streams.Count == 0)
            {
                // Ledgers held for deliveries this run archived go now, not a run later.
                await ArchiveHeld(run, cancellation);
                // Everything made before the cutoff is archived (but what is held).
                state.ArchivedBefore = Max(state.ArchivedBefore, cutoff);
                state.StreamsArchivedThrough = Max(state.StreamsArchivedThrough, floor);
                state.Archived(startedAt);
                await Save(state, cancellation);
                break;
            }

            if (await ArchiveBatch(streams, run, cancellation) is not { } through)
            {
                break;
            }

            state.StreamsArchivedThrough = through;
            state.ArchivedBefore = Max(state.ArchivedBefore, Uuid7Time(through));
            state.Archived(startedAt);
            await Save(state, cancellation);
        }
    }

    /// <summary>
    /// Streams held back (an event with a delivery still pending, a ledger with a delivery still in the log) looked at
    /// again, all of them, a page at a time; archived once nothing holds them.
    /// </summary>
    private async Task ArchiveHeld(RetentionRun run, CancellationToken cancellation)
    {
        for (var after = Guid.Empty; !cancellation.IsCancellationRequested;)
        {
            var held = await Ids("select id from webhooks.mt_doc_retentionheld where id > $1 order by id limit $2", after, null, cancellation);
            if (held.Count == 0 || await ArchiveBatch(held, run, cancellation) is not { } through)
            {
                return;
            }

            after = through;
        }
    }

    /// <summary>
    /// Archives what it can of <paramref name="streams"/> (in id order) in one transaction, up to about
    /// <see cref="RetentionOptions.BatchSize"/> deliveries: event streams whose deliveries all ended (with their log
    /// entries), ledgers and the streams of deliveries made before ledgers; leaves configuration streams alone; holds event
    /// streams with a delivery still pending. Returns the last stream it looked at (the cursor's next place); null when
    /// the projections have not read them yet.
    /// </summary>
    private async Task<Guid?> ArchiveBatch(IReadOnlyList<Guid> streams, RetentionRun run, CancellationToken cancellation)
    {
        // Two sessions on one transaction: Marten archives a stream before it appends to it within one session, and
        // refuses an append to an archived stream; the archived event must be the stream's last.
        await using var connection = await database.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using var append = store.LightweightSession(SessionOptions.ForTransaction(transaction));
        // The streams in id order until their deliveries fill a transaction (one stream at least: a huge fan-out alone),
        // counted from their first events' delivery lists without reading the events whole.
        var sizes = new Dictionary<Guid, int>();
        await using (var count = new NpgsqlCommand("""
            select stream_id, coalesce(jsonb_array_length(data -> 'deliveries'), 1) from webhooks.mt_events
            where stream_id = any($1) and version = 1 and is_archived = false
            """, connection, transaction))
        {
            count.Parameters.Add(new() { Value = streams.ToArray() });
            await using var reader = await count.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                sizes[reader.GetGuid(0)] = Math.Max(1, reader.GetInt32(1));
            }
        }

        var through = streams[^1];
        var taken = new List<Guid>();
        var size = 0;
        foreach (var stream in streams)
        {
            if (size >= Options.BatchSize)
            {
                break;
            }

            through = stream;
            if (sizes.TryGetValue(stream, out var deliveryCount))
            {
                taken.Add(stream);
                size += deliveryCount;
            }
        }

        var firsts = taken.Count == 0 ? [] : (await append.Events.QueryAllRawEvents()
                .Where(e => e.StreamId.IsOneOf(taken.ToArray()) && e.Version == 1)
                .ToListAsync(cancellation))
            .OrderBy(e => taken.IndexOf(e.StreamId))
            .ToList();

        // Only what every async projection has read (the daemon skips archived events).
        var last = firsts.Count == 0 ? 0 : await LastSequence(firsts.Select(f => f.StreamId).ToArray(), cancellation);
        if (last > await ProjectionsRead(cancellation))
        {
            LogWaitingForProjections(last);
            return null;
        }

        // The streams locked first (a redelivery appends to its event's stream, and waits): the log entries read next are
        // what this transaction archives, none made pending again in between.
        await using (var lockStreams = new NpgsqlCommand(
            "select id from webhooks.mt_streams where id = any($1) and is_archived = false for update", connection, transaction))
        {
            lockStreams.Parameters.Add(new() { Value = firsts.Select(f => f.StreamId).ToArray() });
            await lockStreams.ExecuteNonQueryAsync(cancellation);
        }

        var now = time.GetUtcNow();
        var held = (await append.LoadManyAsync<RetentionHeld>(cancellation, firsts.Select(f => f.StreamId).ToArray())).ToDictionary(h => h.Id);
        var deliveries = (await append.LoadManyAsync<DeliveryLog>(
                cancellation, firsts.Select(e => e.Data).OfType<EventPublished>().SelectMany(e => e.Deliveries).ToArray()))
            .ToLookup(d => d.EventId);
        var archive = new List<Guid>();
        var ended = new List<Guid>();
        foreach (var first in firsts)
        {
            switch (first.Data)
            {
                case EventPublished published:
                    var logs = deliveries[published.EventId].OrderBy(d => d.Id).ToList();
                    if (logs.Any(d => d.Status == DeliveryStatuses.Pending))
                    {
                        if (!held.ContainsKey(published.EventId))
                        {
                            append.Store(new RetentionHeld { Id = published.EventId, Since = now });
                        }

                        run.Held.Add(published.EventId);
                        continue;
                    }

                    run.Held.Remove(published.EventId);
                    // The entries as they are, without the responses (past their retention by now, whatever came since).
                    append.Events.Append(published.EventId, new DeliveriesArchived(published.EventId, logs.Select(d => d.ToView() with
                    {
                        Attempts = d.Attempts.Select(a => a with { ResponseExcerpt = null }).ToList(),
                        PayloadRemovedAt = d.PayloadRemovedAt ?? now,
                    }).ToList(), now));
                    ended.AddRange(logs.Select(l => l.Id));
                    break;
                case DeliveryScheduled or DeliverySkipped or DeliveryAttempted or DeliveryRetryScheduled or DeliverySucceeded
                    or DeliveryFailed or DeliveryRedeliveryRequested or DeliveryParked or DeliveryQueued:
                    // A commit's ledger (or a delivery's own stream, from before ledgers).
                    break;
                default:
                    continue; // configuration: never archived
            }

            archive.Add(first.StreamId);
        }

        if (ended.Count > 0)
        {
            append.DeleteWhere<DeliveryLog>(d => d.Id.IsOneOf(ended.ToArray()));
        }

        await append.SaveChangesAsync(cancellation);

        // A ledger (or an old delivery's own stream) waits while a delivery of it is still in the log (held, or made
        // after the cutoff): the log stays rebuildable from the hot events.
        var ledgers = firsts.Where(f => f.Data is not EventPublished && archive.Contains(f.StreamId)).Select(f => f.StreamId).ToArray();
        var live = new HashSet<Guid>();
        if (ledgers.Length > 0)
        {
            await using var inUse = new NpgsqlCommand("""
                select distinct e.stream_id from webhooks.mt_events e
                where e.stream_id = any($1) and e.is_archived = false
                  and exists (select 1 from webhooks.mt_doc_deliverylog d where d.id = (e.data ->> 'deliveryId')::uuid)
                """, connection, transaction);
            inUse.Parameters.Add(new() { Value = ledgers });
            await using var reader = await inUse.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                live.Add(reader.GetGuid(0));
            }
        }

        archive.RemoveAll(live.Contains);
        await using (var move = store.LightweightSession(SessionOptions.ForTransaction(transaction)))
        {
            foreach (var stream in archive)
            {
                move.Events.ArchiveStream(stream);
                if (held.ContainsKey(stream))
                {
                    move.Delete<RetentionHeld>(stream);
                }
            }

            foreach (var stream in live.Where(stream => !held.ContainsKey(stream)))
            {
                move.Store(new RetentionHeld { Id = stream, Since = now });
            }

            await move.SaveChangesAsync(cancellation);
        }

        await transaction.CommitAsync(cancellation);
        run.DeliveriesArchived += ended.Count;
        run.StreamsArchived += archive.Count;
        Telemetry.RetentionDeliveriesArchived.Add(ended.Count);
        Telemetry.RetentionStreamsArchived.Add(archive.Count);
        return through;
    }

    /// <summary>Ids a query returns: its <c>$1</c> is <paramref name="after"/>, <c>$2</c> the batch size, <c>$3</c> <paramref name="below"/>.</summary>
    private async Task<List<Guid>> Ids(string sql, Guid after, Guid? below, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(sql);
        command.Parameters.Add(new() { Value = after });
        command.Parameters.Add(new() { Value = Options.BatchSize });
        if (below is { } bound)
        {
            command.Parameters.Add(new() { Value = bound });
        }

        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private async Task<long> LastSequence(IReadOnlyList<Guid> streams, CancellationToken cancellation)
    {
        // (seq_id + 0: a plain max(seq_id) is planned as a backward walk of the whole sequence index, filtering on the
        // stream, which takes seconds behind millions of newer events; this reads the streams' own rows.)
        await using var command = database.CreateCommand("select coalesce(max(seq_id + 0), 0) from webhooks.mt_events where stream_id = any($1)");
        command.Parameters.Add(new() { Value = streams.ToArray() });
        return (long)(await command.ExecuteScalarAsync(cancellation))!;
    }

    /// <summary>How far every async projection has read the event sequence.</summary>
    private async Task<long> ProjectionsRead(CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            "select coalesce(min(last_seq_id), 9223372036854775807) from webhooks.mt_event_progression where name not like 'HighWater%'");
        return (long)(await command.ExecuteScalarAsync(cancellation))!;
    }

    /// <summary>When a delivery or event id was made, from its version 7 UUID (null for any other id).</summary>
    public static DateTimeOffset? Uuid7Time(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        if (bytes[6] >> 4 != 7)
        {
            return null;
        }

        var milliseconds = (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes) >> 16);
        return DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
    }

    /// <summary>The smallest version 7 UUID of <paramref name="at"/>: every id made before it sorts below (in PostgreSQL's order).</summary>
    public static Guid Uuid7Floor(DateTimeOffset at)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, (ulong)Math.Max(0, at.ToUnixTimeMilliseconds()) << 16 | 0x7000);
        return new Guid(bytes, bigEndian: true);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset? b) => b is { } value && value > a ? value : a;

    private static Guid Max(Guid a, Guid b) => a.CompareTo(b) >= 0 ? a : b;

    [LoggerMessage(LogLevel.Information,
        "Retention: removed the payloads of {Events} events and the excerpts of {LogEntries} log entries; archived {Deliveries} deliveries in {Streams} streams ({Held} events held by a pending delivery)")]
    private partial void LogRun(long events, long logEntries, long deliveries, long streams, long held);

    [LoggerMessage(LogLevel.Warning, "Retention waits for the async projections to read up to event {Sequence} before archiving it (a projection far behind, or one removed whose progress row is left in mt_event_progression)")]
    private partial void LogWaitingForProjections(long sequence);
}

/// <summary>What one run did (for tests, logs and metrics).</summary>
public sealed class RetentionRun
{
    public long PayloadsRemoved { get; set; }
    public long LogEntriesCleared { get; set; }
    public long DeliveriesArchived { get; set; }
    public long StreamsArchived { get; set; }
    /// <summary>Events still held by a pending delivery when the run ended.</summary>
    public long EventsHeld => Held.Count;

    internal HashSet<Guid> Held { get; } = [];
}

/// <summary>Where retention got to: one document, read by every run and by a 410's answer.</summary>
public sealed class RetentionState
{
    public const string TheId = "retention";

    public string Id { get; set; } = TheId;

    /// <summary>Events up to this sequence had their payloads removed.</summary>
    public long PayloadsRemovedThrough { get; set; }

    /// <summary>Log entries created up to this time had their excerpts removed.</summary>
    public DateTimeOffset LogClearedThrough { get; set; } = DateTimeOffset.UnixEpoch;

    /// <summary>Streams with ids up to this one were looked at (archived, held, or configuration left alone).</summary>
    public Guid StreamsArchivedThrough { get; set; }

    /// <summary>Deliveries made before this were archived (but those held), as <see cref="Runs"/> says when.</summary>
    public DateTimeOffset ArchivedBefore { get; set; } = DateTimeOffset.UnixEpoch;

    /// <summary>The runs that archived, oldest first: deliveries made before <c>Before</c> (and after the run before's) at <c>At</c>.</summary>
    public List<ArchiveRun> Runs { get; set; } = [];

    /// <summary>
    /// Records a run started at <paramref name="at"/> as having archived up to <see cref="ArchivedBefore"/>: one entry per
    /// day (a 410 says the day), at most 1,000 days.
    /// </summary>
    public void Archived(DateTimeOffset at)
    {
        if (Runs.Count > 0 && Runs[^1].At.UtcDateTime.Date == at.UtcDateTime.Date)
        {
            Runs[^1] = Runs[^1] with { Before = ArchivedBefore };
        }
        else if (Runs.Count == 0 || Runs[^1].Before < ArchivedBefore)
        {
            Runs.Add(new ArchiveRun(ArchivedBefore, at));
        }

        if (Runs.Count > 1000)
        {
            // The oldest two become one: the earlier deliveries are said to be archived when the later were (an upper bound).
            Runs.RemoveAt(0);
        }
    }

    /// <summary>When a delivery made at <paramref name="made"/> was archived; null when it was not (or not yet).</summary>
    public DateTimeOffset? ArchivedAt(DateTimeOffset made) =>
        made >= ArchivedBefore ? null : Runs.FirstOrDefault(r => made < r.Before)?.At ?? Runs.LastOrDefault()?.At;
}

public sealed record ArchiveRun(DateTimeOffset Before, DateTimeOffset At);

/// <summary>An event whose stream retention would archive but for a delivery still pending (a disabled webhook's, kept).</summary>
public sealed class RetentionHeld
{
    public Guid Id { get; set; }

    public DateTimeOffset Since { get; set; }
}

/// <summary>Runs <see cref="Retention"/> a minute after the start, then every <see cref="RetentionOptions.RunEvery"/>, on a host where it is enabled.</summary>
public sealed partial class RetentionJob(Retention retention, IOptions<RetentionOptions> settings, TimeProvider time, ILogger<RetentionJob> logger)
    : BackgroundService
{
    public static readonly TimeSpan FirstRunAfter = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!settings.Value.Enabled)
        {
            return;
        }

        // The first run a minute after the start (a host back from a long stop catches up soon), then every RunEvery.
        var every = settings.Value.RunEvery;
        try
        {
            await Task.Delay(every < FirstRunAfter ? every : FirstRunAfter, time, stoppingToken);
            using var timer = new PeriodicTimer(every, time);
            do
            {
                try
                {
                    await retention.Run(time.GetUtcNow(), stoppingToken);
                }
                catch (Exception failure) when (failure is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogRunFailed(failure);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(LogLevel.Warning, "Retention could not finish its run; the next run goes on from where it stopped")]
    private partial void LogRunFailed(Exception exception);
}
