using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Webhooks.KeySafe.Contracts;
using Wolverine;
using Wolverine.Http;

namespace Webhooks.Definitions.Hooks;

public static class DefineWebhookEndpoint
{
    public static async Task<ProblemDetails> ValidateAsync(
        DefineWebhook request, IQuerySession session, IMessageBus bus, CancellationToken cancellation)
    {
        var errors = WebhookRules.Check(request);
        await WebhookRules.CheckReferences(errors, request, session, bus, cancellation);
        return errors.ToProblem();
    }

    /// <summary>Defines a webhook; it is called from the next matching event on (when enabled).</summary>
    [WolverinePost("/webhooks", OperationId = "DefineWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookDefinition>(StatusCodes.Status201Created)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public static async Task<(IResult, OutgoingMessages)> Post(
        DefineWebhook request, IDocumentSession session, IMessageBus bus, ClaimsPrincipal user, TimeProvider time,
        HttpResponse response, CancellationToken cancellation)
    {
        var name = request.Name!;
        if (await WebhookLookup.ByName(session, name, cancellation) is not null)
        {
            return (Results.Problem(WebhookLookup.NameTaken(name)), []);
        }

        var id = Guid.CreateVersion7();
        if (await WebhookLookup.Reserve(bus, request.KeySafeKeyId, id, name, cancellation) is { } keyProblem)
        {
            return (Results.Problem(keyProblem), []);
        }

        await bus.InvokeAsync(new IssueSigningSecret(id), cancellation);
        var defined = new WebhookDefined(
            id, name, WebhookLookup.Blank(request.Description), request.Application!, request.EventSource!, request.Enabled ?? true,
            request.KeySafeKeyId, request.Url!, request.PayloadFormat!, request.PostMode!, WebhookLookup.Blank(request.TriggerExpression),
            user.Actor(), time.GetUtcNow());
        session.Events.StartStream<Webhook>(id, defined);

        var webhook = Webhook.Create(defined).ToDefinition();
        Versions.Tag(response, webhook.Version);
        return (Results.Created($"/webhooks/{name}", webhook), [new WebhookChanged(webhook)]);
    }
}

public static class UpdateWebhookEndpoint
{
    public static async Task<ProblemDetails> ValidateAsync(
        DefineWebhook request, [FromHeader(Name = "If-Match")] string? ifMatch, IQuerySession session, IMessageBus bus,
        CancellationToken cancellation)
    {
        var errors = WebhookRules.Check(request);
        errors.Check(Versions.TryParseIfMatch(ifMatch, out _), "If-Match", "If-Match must be one version as the ETag gave it, e.g. \"3\".");
        await WebhookRules.CheckReferences(errors, request, session, bus, cancellation);
        return errors.ToProblem();
    }

    /// <summary>Replaces a webhook's whole definition (a rename included). Send If-Match to refuse stale changes (412).</summary>
    [WolverinePut("/webhooks/{name}", OperationId = "UpdateWebhook")]
    [Authorize(Roles = Roles.Admin)]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookDefinition>(StatusCodes.Status200OK)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status412PreconditionFailed, "application/problem+json")]
    public static async Task<(IResult, OutgoingMessages)> Put(
        string name, DefineWebhook request, [FromHeader(Name = "If-Match")] string? ifMatch, IDocumentSession session,
        IMessageBus bus, ClaimsPrincipal user, TimeProvider time, HttpResponse response, CancellationToken cancellation)
    {
        var (stream, problem) = await WebhookLookup.ForWriting(session, name, ifMatch, cancellation);
        if (stream?.Aggregate is not { } current)
        {
            return (Results.Problem(problem!), []);
        }

        var newName = request.Name!;
        if (newName != current.Name && await WebhookLookup.ByName(session, newName, cancellation) is not null)
        {
            return (Results.Problem(WebhookLookup.NameTaken(newName)), []);
        }

        if (request.KeySafeKeyId != current.KeySafeKeyId
            && await WebhookLookup.Reserve(bus, request.KeySafeKeyId, current.Id, newName, cancellation) is { } keyProblem)
        {
            return (Results.Problem(keyProblem), []);
        }

        var description = WebhookLookup.Blank(request.Description);
        var trigger = WebhookLookup.Blank(request.TriggerExpression);
        var enabled = request.Enabled ?? true;
        var after = Webhook.Fields(newName, description, request.Application!, request.EventSource!, enabled, request.KeySafeKeyId,
            request.Url!, request.PayloadFormat!, request.PostMode!, trigger);
        var changes = current.Fields().Zip(after)
            .Where(pair => pair.First.Value != pair.Second.Value)
            .Select(pair => new FieldChange(pair.First.Field, pair.First.Value, pair.Second.Value))
            .ToList();
        if (changes.Count == 0)
        {
            Versions.Tag(response, current.Version);
            return (Results.Ok(current.ToDefinition()), []);
        }

        var updated = new WebhookUpdated(
            current.Id, newName, description, request.Application!, request.EventSource!, enabled, request.KeySafeKeyId,
            request.Url!, request.PayloadFormat!, request.PostMode!, trigger, changes, user.Actor(), time.GetUtcNow());
        stream.AppendOne(updated);
        var webhook = current.Apply(updated).ToDefinition();
        Versions.Tag(response, webhook.Version);
        return (Results.Ok(webhook), [new WebhookChanged(webhook)]);
    }
}

internal static class WebhookLookup
{
    public static Task<Webhook?> ByName(IQuerySession session, string name, CancellationToken cancellation) =>
        session.Query<Webhook>().FirstOrDefaultAsync(w => w.Name == name, cancellation);

    /// <summary>The webhook's stream for a change, or the problem: not found (404), or stale against If-Match (412).</summary>
    public static async Task<(JasperFx.Events.IEventStream<Webhook>? Stream, ProblemDetails? Problem)> ForWriting(
        IDocumentSession session, string name, string? ifMatch, CancellationToken cancellation)
    {
        if (await ByName(session, name, cancellation) is not { } found)
        {
            return (null, NotFound(name));
        }

        var stream = await session.Events.FetchForWriting<Webhook>(found.Id, cancellation);
        if (stream.Aggregate is not { } webhook)
        {
            return (null, NotFound(name));
        }

        return Versions.Stale(ifMatch, webhook.Version, $"The webhook '{name}'") is { } stale ? (null, stale) : (stream, null);
    }

    public static ProblemDetails NotFound(string name) => Problems.NotFound($"There is no webhook named '{name}'.");

    public static ProblemDetails NameTaken(string name) =>
        Problems.Conflict($"A webhook named '{name}' exists already; names are unique among live webhooks.");

    /// <summary>Holds the key for this webhook in KeySafe, so it cannot be deleted before the webhook is saved.</summary>
    public static async Task<ProblemDetails?> Reserve(IMessageBus bus, Guid? keyId, Guid webhookId, string name, CancellationToken cancellation)
    {
        if (keyId is not { } key)
        {
            return null;
        }

        var reservation = await bus.InvokeAsync<KeyReservation>(new ReserveKey(key, webhookId, name), cancellation);
        return reservation.Reserved ? null : new FieldErrors().Add("keySafeKeyId", reservation.Problem!).ToProblem();
    }

    public static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}
