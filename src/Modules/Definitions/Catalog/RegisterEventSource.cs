using System.Security.Claims;
using System.Text.Json.Nodes;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

namespace Webhooks.Definitions.Catalog;

/// <summary>Registers (or changes) the event source whose stream is <paramref name="EventSourceId"/>.</summary>
public sealed record RegisterEventSourceCommand(Guid EventSourceId, string Application, string Name, RegisterEventSource Request, string Actor) : BuildingBlocks.IActorCommand;

/// <summary>The event source after a registration, and whether it was new.</summary>
public sealed record EventSourceWrite(EventSourceView View, bool Created);

public static class RegisterEventSourceHandler
{
    /// <summary>The decision (<see cref="RegisterEventSourceEndpoint.Decide"/>) in Wolverine's aggregate workflow.</summary>
    public static (EventSourceWrite, Events, OutgoingMessages) Handle(
        RegisterEventSourceCommand command, [WriteAggregate(Required = false)] EventSource? current, TimeProvider time)
    {
        var decided = RegisterEventSourceEndpoint.Decide(
            current, command.EventSourceId, command.Application, command.Name, command.Request, command.Actor, time.GetUtcNow());
        var next = decided switch
        {
            EventSourceRegistered registered => EventSource.Create(registered),
            EventSourceUpdated changed => current!.Apply(changed),
            _ => current!,
        };
        var view = next.ToView();
        return decided is null
            ? (new EventSourceWrite(view, false), [], [])
            : (new EventSourceWrite(view, current is null), [decided], [new EventSourceChanged(view)]);
    }
}

public static class RegisterEventSourceEndpoint
{
    public const int MaxDescriptionLength = 2000;

    public static ProblemDetails Validate(string application, string name, RegisterEventSource request, ClaimsPrincipal user)
    {
        var errors = new FieldErrors();
        if (Names.Problem(application) is { } applicationProblem)
        {
            errors.Add("application", $"The application name {applicationProblem}.");
        }

        if (Names.Problem(name) is { } nameProblem)
        {
            errors.Add("name", $"The event source name {nameProblem}.");
        }

        if (Names.Problem(request.Entity) is { } entityProblem)
        {
            errors.Add("entity", $"The entity {entityProblem}.");
        }

        if (request.Table is not null && Names.Problem(request.Table) is { } tableProblem)
        {
            errors.Add("table", $"The table {tableProblem}.");
        }

        errors.Check(
            request.Event is not null && EntityEvents.All.Contains(request.Event, StringComparer.Ordinal),
            "event",
            $"The event must be one of {string.Join(", ", EntityEvents.All)}; got {Quote(request.Event)}.");
        errors.Check(
            request.Description is null || request.Description.Length <= MaxDescriptionLength,
            "description",
            $"The description must be at most {MaxDescriptionLength} characters.");

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        return user.MayActFor(application)
            ? WolverineContinue.NoProblems
            : Problems.Forbidden($"This API key may not register event sources for the application '{application}'.");
    }

    /// <summary>Registers an event source, or changes it when it exists. Repeating the same request changes nothing.</summary>
    [WolverinePut("/applications/{application}/event-sources/{name}", OperationId = "RegisterEventSource")]
    [Authorize(Roles = $"{Roles.Admin},{Roles.Publisher}")]
    [Tags("Event sources")]
    [ProducesResponseType<EventSourceView>(StatusCodes.Status200OK)]
    [ProducesResponseType<EventSourceView>(StatusCodes.Status201Created)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    public static async Task<IResult> Put(
        string application, string name, RegisterEventSource request, IMessageBus bus, ClaimsPrincipal user, CancellationToken cancellation)
    {
        // The stream id follows from the two route values; the registration itself is the handler's, on that stream.
        var write = await bus.InvokeAsync<EventSourceWrite>(
            new RegisterEventSourceCommand(EventSource.StreamId(application, name), application, name, request, user.Actor()), cancellation);
        return write.Created ? Results.Created($"/applications/{application}/event-sources/{name}", write.View) : Results.Ok(write.View);
    }

    /// <summary>The event a registration produces: registered, changed (naming the fields), or none when nothing differs.</summary>
    public static object? Decide(
        EventSource? current, Guid id, string application, string name, RegisterEventSource request, string actor, DateTimeOffset now)
    {
        var entity = request.Entity!;
        var kind = request.Event!;
        if (current is null)
        {
            return new EventSourceRegistered(
                id, application, name, entity, request.Table, kind, request.Description, request.SampleRecord, actor, now);
        }

        var changedFields = new List<string>();
        Track(changedFields, "entity", current.Entity, entity);
        Track(changedFields, "table", current.Table, request.Table);
        Track(changedFields, "event", current.Event, kind);
        Track(changedFields, "description", current.Description, request.Description);
        if (!JsonNode.DeepEquals(current.SampleRecord, request.SampleRecord))
        {
            changedFields.Add("sampleRecord");
        }

        return changedFields.Count == 0
            ? null
            : new EventSourceUpdated(
                id, application, name, entity, request.Table, kind, request.Description, request.SampleRecord,
                changedFields, actor, now);
    }

    private static void Track(List<string> changed, string field, string? before, string? after)
    {
        if (!string.Equals(before, after, StringComparison.Ordinal))
        {
            changed.Add(field);
        }
    }

    private static string Quote(string? value) => value is null ? "nothing" : $"'{value}'";
}
