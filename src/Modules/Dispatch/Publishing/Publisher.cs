using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Text.Json;
using Marten;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Batching;
using Webhooks.Dispatch.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Flow;
using Webhooks.Dispatch.Outbound;
using Webhooks.Dispatch.Rendering;
using Webhooks.Dispatch.Routing;
using Webhooks.Triggers;
using Wolverine;

namespace Webhooks.Dispatch.Publishing;

/// <summary>A publish refused before anything happened (bad input, unknown application, wrong caller).</summary>
public sealed class PublishRefusedException(ProblemDetails problem, TimeSpan? retryAfter = null) : Exception(problem.Detail)
{
    public ProblemDetails Problem { get; } = problem;

    /// <summary>When the refusal is for now only (503): how long to wait before sending the event again.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// Publishing an entity event: match (in memory), call sync and syncCritical webhooks at once and in parallel,
/// decide the verdict, then write the event, every delivery and every async delivery's durable message in one
/// group commit before answering.
/// </summary>
public sealed partial class Publisher(
    DispatchCatalog catalog, TargetCaller caller, GroupCommit commits, BackPressure pressure, Idempotency idempotency, TimeProvider time,
    DispatchOptions options, OrderedDeliveries ordered, ILogger<Publisher> logger)
{
    public const int MaxBatch = 1000;

    public async Task<PublishResult> Publish(PublishEntityEvent published, ClaimsPrincipal? publisher, string actor, CancellationToken cancellation)
    {
        // Traced (a span of the caller's request, or of its message) and timed by verdict (issue 16).
        using var activity = Telemetry.Source.StartActivity("webhooks.publish");
        var started = Stopwatch.GetTimestamp();
        var verdict = "refused";
        try
        {
            var result = await Published(published, publisher, actor, cancellation);
            verdict = Verdict(result.Outcome);
            activity?.SetTag("webhooks.event.id", result.EventId.ToString());
            activity?.SetTag("webhooks.deliveries", result.Deliveries.Count);
            return result;
        }
        finally
        {
            activity?.SetTag("webhooks.application", published.Application);
            activity?.SetTag("webhooks.event_source", published.EventSource);
            activity?.SetTag("webhooks.verdict", verdict);
            Telemetry.PublishDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("verdict", verdict));
        }
    }

    private static string Verdict(PublishOutcome outcome) => outcome switch
    {
        PublishOutcome.Accepted => "accepted",
        PublishOutcome.Allowed => "allowed",
        _ => "rejected",
    };

    private async Task<PublishResult> Published(PublishEntityEvent published, ClaimsPrincipal? publisher, string actor, CancellationToken cancellation)
    {
        var accepted = Accept(published, publisher, actor);
        if (accepted.Key is not { } key)
        {
            return await Make(accepted, cancellation);
        }

        if (await idempotency.Begin(key, accepted.Fingerprint, cancellation) is { } earlier)
        {
            return earlier;
        }

        PublishResult? answer = null;
        try
        {
            answer = await Make(accepted, cancellation);
            return answer;
        }
        finally
        {
            // Whatever happened, the key is released: with the answer for the publishes waiting on it, or free again.
            if (answer is not null)
            {
                idempotency.Complete(key, answer);
            }
            else
            {
                await idempotency.Abandon(key);
            }
        }
    }

    /// <summary>
    /// Publishes each event of <paramref name="batch"/> as <see cref="Publish"/> would (checks, Idempotency-Keys, sync
    /// calls and verdicts event by event, several at once), then records every event that goes ahead in one commit, and
    /// answers one result per event in order. An event refused (bad input, unknown source, back pressure, a key reused
    /// with another body) is answered with its problem and does not stop the others. Two events of the batch with one
    /// Idempotency-Key are one event: the second gets the first's answer (or 422 when their bodies differ).
    /// </summary>
    public async Task<PublishBatchResponse> PublishBatch(PublishEntityEvents batch, ClaimsPrincipal? publisher, string actor, CancellationToken cancellation)
    {
        // One span for the batch (its events' deliveries carry its trace context); timed as a batch, by its size.
        using var activity = Telemetry.Source.StartActivity("webhooks.publish_batch");
        activity?.SetTag("webhooks.events", batch.Events?.Count ?? 0);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await Batch(batch, publisher, actor, cancellation);
        }
        finally
        {
            Telemetry.PublishDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("verdict", "batch"));
        }
    }

    private async Task<PublishBatchResponse> Batch(PublishEntityEvents batch, ClaimsPrincipal? publisher, string actor, CancellationToken cancellation)
    {
        var events = CheckBatch(batch);
        var results = new PublishBatchResult?[events.Count];
        var accepted = new Accepted?[events.Count];
        var firstWithKey = new Dictionary<string, int>(StringComparer.Ordinal);
        var repeats = new List<(int Index, int Of)>();
        for (var i = 0; i < events.Count; i++)
        {
            try
            {
                if (events[i].Record is { } record && JsonMarshal.GetRawUtf8Value(record).Length is var size && size > options.MaxEventBytes)
                {
                    throw new PublishRefusedException(new ProblemDetails
                    {
                        Type = "urn:webhooks:too-large",
                        Title = "Event too large",
                        Status = StatusCodes.Status413PayloadTooLarge,
                        Detail = $"An event's record may be at most {options.MaxEventBytes} bytes (Webhooks:Dispatch:MaxEventBytes); this one is {size}.",
                    });
                }

                var item = Accept(events[i], publisher, actor);
                if (item.Key is { } key)
                {
                    if (firstWithKey.TryGetValue(key, out var first))
                    {
                        Idempotency.Same(accepted[first]!.Fingerprint, item.Fingerprint);
                        repeats.Add((i, first));
                        continue;
                    }

                    firstWithKey[key] = i;
                }

                accepted[i] = item;
            }
            catch (PublishRefusedException refused)
            {
                results[i] = PublishAnswers.Refused(refused);
            }
        }

        var prepared = new Prepared?[events.Count];
        var held = new List<string>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.BatchParallelism, CancellationToken = cancellation };
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, events.Count).Where(i => accepted[i] is not null), parallel, async (i, token) =>
            {
                var item = accepted[i]!;
                var holds = false;
                try
                {
                    if (item.Key is { } key)
                    {
                        if (await idempotency.Begin(key, item.Fingerprint, token) is { } earlier)
                        {
                            results[i] = PublishAnswers.Answered(earlier);
                            return;
                        }

                        holds = true;
                        lock (held)
                        {
                            held.Add(key);
                        }
                    }

                    prepared[i] = await Prepare(item, token);
                }
                catch (PublishRefusedException refused)
                {
                    results[i] = PublishAnswers.Refused(refused);
                    if (holds)
                    {
                        lock (held)
                        {
                            held.Remove(item.Key!);
                        }

                        await idempotency.Abandon(item.Key!);
                    }
                }
            });

            var writes = prepared.OfType<Prepared>().ToList();
            if (writes.Count > 0)
            {
                await commits.Commit(async (session, bus) =>
                {
                    foreach (var write in writes)
                    {
                        await write.Write(session, bus);
                    }
                });
            }
        }
        catch
        {
            // Nothing of the batch was recorded: every key it holds is free again (each on its own: the database may be
            // what failed, and a claim left there lapses within its lease).
            foreach (var key in held)
            {
                try
                {
                    await idempotency.Abandon(key);
                }
                catch (Exception abandoning) when (abandoning is not OperationCanceledException)
                {
                    LogAbandonFailed(logger, abandoning);
                }
            }

            throw;
        }

        for (var i = 0; i < events.Count; i++)
        {
            if (prepared[i] is { } done)
            {
                results[i] = PublishAnswers.Answered(done.Result);
                if (accepted[i]!.Key is { } key)
                {
                    idempotency.Complete(key, done.Result);
                }
            }
        }

        foreach (var (index, of) in repeats)
        {
            results[index] = results[of];
        }

        return new PublishBatchResponse(results.Select(r => r!).ToList());
    }

    private static IReadOnlyList<PublishEntityEvent> CheckBatch(PublishEntityEvents batch)
    {
        var events = batch.Events;
        var errors = new FieldErrors()
            .Check(events is { Count: > 0 }, "events", "The batch needs at least one event.")
            .Check(events is null || events.Count <= MaxBatch, "events", $"A batch holds at most {MaxBatch} events; this one has {events?.Count}.");
        for (var i = 0; events is not null && i < events.Count && i < MaxBatch; i++)
        {
            errors.Check(events[i] is not null, $"events[{i}]", "Each event must be an object: the body of POST /events.");
        }

        if (!errors.IsEmpty)
        {
            throw new PublishRefusedException(errors.ToProblem());
        }

        return events!;
    }

    /// <summary>An event that passed its checks, with the webhooks it matched and its Idempotency-Key's record id.</summary>
    private sealed record Accepted(PublishEntityEvent Published, string Actor, EntityEvent Entity, Matches Matches, string? Key, string Fingerprint);

    /// <summary>An event whose sync calls are made and verdict decided: its answer, and its writes for the commit.</summary>
    private sealed record Prepared(PublishResult Result, Func<IDocumentSession, IMessageContext, ValueTask> Write, bool AnswerAfterCommit);

    private Accepted Accept(PublishEntityEvent published, ClaimsPrincipal? publisher, string actor)
    {
        var (source, record) = Check(published, publisher);
        var entity = new EntityEvent(source, time.GetUtcNow(), published.ActionBy, published.ActionByName, published.CallingSessionId, record);
        var matches = Match(source, new TriggerInput(source.Urn, published.ActionBy, source.Entity, record));
        var key = published.IdempotencyKey is { Length: > 0 } given ? IdempotentPublish.IdFor(actor, given) : null;
        return new Accepted(published, actor, entity, matches, key, key is null ? "" : IdempotentPublish.FingerprintOf(published));
    }

    /// <summary>The webhooks of the event source that are enabled and whose trigger matches, or that must be skipped and why.</summary>
    private Matches Match(SourceInfo source, TriggerInput input)
    {
        var matches = new Matches([], [], []);
        foreach (var route in catalog.Routes(source.Application, source.Name))
        {
            if (!route.Definition.Enabled)
            {
                continue;
            }

            var (matched, reason) = Match(route, input);
            if (reason is not null)
            {
                matches.Skipped.Add((route, Guid.CreateVersion7(), reason));
            }
            else if (matched)
            {
                (route.Definition.PostMode == PostModes.Async ? matches.Asynchronous : matches.Synchronous).Add(route);
            }
        }

        return matches;
    }

    /// <summary>One event: prepared, then its group commit (see the class remarks).</summary>
    private async Task<PublishResult> Make(Accepted accepted, CancellationToken cancellation)
    {
        var prepared = await Prepare(accepted, cancellation);
        var committed = commits.Commit(prepared.Write);

        // An answer that promises async deliveries, or that a repeated Idempotency-Key must find, waits for the commit.
        // Otherwise (sync calls or no match) SyncRecording = Deferred answers now and the record follows in the commit.
        if (options.SyncRecording == SyncRecording.Deferred && !prepared.AnswerAfterCommit)
        {
            _ = committed.ContinueWith(
                (failed, state) => LogRecordLost(logger, (Guid)state!, failed.Exception!.GetBaseException()),
                prepared.Result.EventId, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return prepared.Result;
        }

        await committed;
        return prepared.Result;
    }

    /// <summary>Back pressure, the sync calls, the verdict; and the event's writes (event, deliveries, messages, key).</summary>
    private async Task<Prepared> Prepare(Accepted accepted, CancellationToken cancellation)
    {
        var (published, actor, entity, matches, key, fingerprint) = accepted;
        var (synchronous, asynchronous, skipped) = (matches.Synchronous, matches.Asynchronous, matches.Skipped);
        var (source, now, record) = (entity.Source, entity.EventTime, entity.Record);
        var eventId = Guid.CreateVersion7();
        var payloads = new Payloads(entity);
        // The publish's trace context goes with each async delivery, so that its attempts join this trace; only when
        // traces are recorded (ASP.NET Core makes activities for its own logging too: no need to store theirs).
        var traceParent = Telemetry.Source.HasListeners() && Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

        // Refused before any call is made, so a publish that is sent again later is made once.
        if (pressure.Refusal(addsDeliveries: asynchronous.Count > 0) is { } overload)
        {
            throw new PublishRefusedException(overload.Problem, overload.RetryAfter);
        }

        var calls = await Task.WhenAll(synchronous.Select(async route =>
        {
            var id = Guid.CreateVersion7();
            var outcome = await caller.Post(route.Definition, id, payloads.For(route.Definition), options.SyncTimeout, cancellation);
            return (Route: route, Id: id, Outcome: outcome);
        }));

        var vetoes = calls.Where(c => c.Route.Definition.PostMode == PostModes.SyncCritical && !c.Outcome.Succeeded).ToList();
        var warnings = calls.Where(c => c.Route.Definition.PostMode == PostModes.Sync && !c.Outcome.Succeeded)
            .Select(c => new PublishWarning(c.Route.Definition.Name, c.Outcome.StatusCode, c.Outcome.Describe(c.Route.Definition.Name)))
            .ToList();
        var scheduled = vetoes.Count == 0 ? asynchronous.Select(route => (Route: route, Id: Guid.CreateVersion7())).ToList() : [];

        var deliveries = calls.Select(c => new DeliverySummary(c.Id, c.Route.Definition.Name, c.Route.Definition.PostMode,
                c.Outcome.Succeeded ? DeliveryStatuses.Succeeded : DeliveryStatuses.Failed))
            .Concat(scheduled.Select(s => new DeliverySummary(s.Id, s.Route.Definition.Name, PostModes.Async, DeliveryStatuses.Pending)))
            .Concat(skipped.Select(s => new DeliverySummary(s.Id, s.Route.Definition.Name, s.Route.Definition.PostMode, DeliveryStatuses.Skipped)))
            .ToList();

        var outcome = vetoes.Count > 0 ? PublishOutcome.Rejected : synchronous.Count > 0 ? PublishOutcome.Allowed : PublishOutcome.Accepted;
        var rejections = vetoes
            .Select(v => new PublishRejection(v.Route.Definition.Name, v.Outcome.StatusCode, v.Outcome.Describe(v.Route.Definition.Name)))
            .ToList();
        var result = new PublishResult(eventId, outcome, deliveries, warnings, rejections);

        async ValueTask Write(IDocumentSession session, IMessageContext bus)
        {
            // One stream: the event, then each delivery's events (one small append; the delivery log follows inline).
            var stream = new List<object>(1 + (calls.Length * 3) + scheduled.Count + skipped.Count)
            {
                new EventPublished(
                    eventId, source.Application, source.Name, published.ActionBy, published.ActionByName, published.CallingSessionId,
                    record, outcome.ToString(), deliveries.Select(d => d.Id).ToList(), actor, now),
            };
            foreach (var (route, id, callOutcome) in calls)
            {
                var webhook = route.Definition;
                stream.Add(new DeliveryScheduled(id, eventId, webhook.Id, webhook.Name, webhook.Url, webhook.PostMode, webhook.PayloadFormat, now));
                stream.Add(Attempts.Attempted(id, 1, now, callOutcome));
                stream.Add(callOutcome.Succeeded ? new DeliverySucceeded(id, now) : new DeliveryFailed(id, callOutcome.Describe(webhook.Name), now));
            }

            foreach (var (route, id) in scheduled)
            {
                var webhook = route.Definition;
                stream.Add(new DeliveryScheduled(id, eventId, webhook.Id, webhook.Name, webhook.Url, webhook.PostMode, webhook.PayloadFormat, now));
                var message = new DeliverWebhook(id, eventId, webhook.Id, 1, payloads.For(webhook), TraceParent: traceParent);
                if (OrderedDeliveries.Key(webhook, record) is { } orderKey)
                {
                    // In this commit: the delivery's place in its key's queue, in the order the publishes commit.
                    message = message with { Ordered = true };
                    ordered.Enqueue(session, message, orderKey);
                }

                commits.Deliver(bus, message);
            }

            foreach (var (route, id, reason) in skipped)
            {
                var webhook = route.Definition;
                stream.Add(new DeliverySkipped(id, eventId, webhook.Id, webhook.Name, webhook.PostMode, reason, now));
            }

            session.Events.StartStream(eventId, stream);

            if (key is not null)
            {
                idempotency.Record(session, key, fingerprint, result);
            }
        }

        return new Prepared(result, Write, AnswerAfterCommit: scheduled.Count > 0 || key is not null);
    }


    [LoggerMessage(LogLevel.Warning, "An Idempotency-Key of a failed batch could not be withdrawn; its claim lapses within its lease")]
    private static partial void LogAbandonFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Error, "The record of event {EventId} (answered already, SyncRecording = Deferred) could not be written")]
    private static partial void LogRecordLost(ILogger logger, Guid eventId, Exception exception);

    private (SourceInfo Source, JsonElement Record) Check(PublishEntityEvent published, ClaimsPrincipal? publisher)
    {
        var errors = new FieldErrors()
            .Check(published.Application is { Length: > 0 }, "application", "The application is required.")
            .Check(published.EventSource is { Length: > 0 }, "eventSource", "The event source is required.")
            .Check(published.Record is { ValueKind: JsonValueKind.Object }, "record", "The record is required, as a JSON object of the entity's fields.")
            .Check(published.IdempotencyKey is null || published.IdempotencyKey.Length <= 255, "Idempotency-Key", "The Idempotency-Key must be at most 255 characters.")
            .Check(StoredText.IsStorable(published.ActionBy), "actionBy", $"actionBy {StoredText.NotStorable}.")
            .Check(StoredText.IsStorable(published.ActionByName), "actionByName", $"actionByName {StoredText.NotStorable}.")
            .Check(StoredText.IsStorable(published.CallingSessionId), "callingSessionId", $"callingSessionId {StoredText.NotStorable}.")
            .Check(StoredText.IsStorable(published.IdempotencyKey), "Idempotency-Key", $"The Idempotency-Key {StoredText.NotStorable}.");
        if (published.Record is { ValueKind: JsonValueKind.Object } given && StoredJson.FirstUnstorable(given, "record") is { } field)
        {
            // Stored as it came (jsonb), so kept faithfully or refused: PostgreSQL cannot keep a NUL in jsonb.
            errors.Add(field, $"This value (or property name) {StoredText.NotStorable}: PostgreSQL cannot store it.");
        }

        if (!errors.IsEmpty)
        {
            throw new PublishRefusedException(errors.ToProblem());
        }

        var application = published.Application!;
        if (!catalog.HasApplication(application))
        {
            throw new PublishRefusedException(Problems.NotFound(
                $"No application named '{application}' is in the catalog; register its event sources first (PUT /applications/{application}/event-sources/{{name}})."));
        }

        var source = catalog.Source(application, published.EventSource!) ?? throw new PublishRefusedException(new FieldErrors()
            .Add("eventSource", $"The application '{application}' has no event source '{published.EventSource}' in the catalog.")
            .ToProblem());

        if (publisher is not null && !publisher.MayActFor(application))
        {
            throw new PublishRefusedException(Problems.Forbidden($"This API key may not publish events of the application '{application}'."));
        }

        return (source, published.Record!.Value.Clone());
    }

    /// <summary>Whether the webhook's trigger matches; or, when it cannot be evaluated, why the webhook is skipped.</summary>
    private static (bool Matched, string? Skip) Match(Route route, in TriggerInput input)
    {
        if (route.TriggerProblem is { } problem)
        {
            return (false, $"The trigger expression does not parse: {problem}");
        }

        try
        {
            return (route.Trigger?.Matches(input) ?? true, null);
        }
        catch (TriggerEvaluationException cannot)
        {
            return (false, $"The trigger expression cannot be evaluated for this event: {cannot.Message}");
        }
    }

    private sealed record Matches(List<Route> Synchronous, List<Route> Asynchronous, List<(Route Route, Guid Id, string Reason)> Skipped);

    /// <summary>Renders each format at most once per event, whatever the fan-out.</summary>
    private sealed class Payloads(EntityEvent entity)
    {
        private readonly Dictionary<string, byte[]> rendered = new(StringComparer.Ordinal);

        public byte[] For(WebhookDefinition webhook)
        {
            lock (rendered)
            {
                if (!rendered.TryGetValue(webhook.PayloadFormat, out var body))
                {
                    rendered[webhook.PayloadFormat] = body = Payload.For(webhook.PayloadFormat, entity);
                }

                return body;
            }
        }
    }
}
