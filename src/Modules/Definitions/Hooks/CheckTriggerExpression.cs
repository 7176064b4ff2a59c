using System.Text.Json;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Definitions.Catalog;
using Webhooks.Definitions.Contracts;
using Webhooks.Triggers;
using Wolverine.Http;

namespace Webhooks.Definitions.Hooks;

public static class CheckTriggerExpressionEndpoint
{
    public static ProblemDetails Validate(CheckTriggerExpression request) => new FieldErrors()
        .Check(request.Expression is not null, "expression", "Send the expression to check.")
        .Check(request.Expression is null || request.Expression.Length <= WebhookRules.MaxTriggerExpressionLength, "expression",
            $"A trigger expression is at most {WebhookRules.MaxTriggerExpressionLength} characters.")
        .Check(request.Record is null or { ValueKind: JsonValueKind.Object }, "record", "The record must be a JSON object.")
        .ToProblem();

    /// <summary>
    /// Checks a trigger expression without saving anything: whether it parses (and where not), and whether it matches
    /// a record, or the event source's sample record. What a webhook form checks as you type.
    /// </summary>
    [WolverinePost("/trigger-expressions/check", OperationId = "CheckTriggerExpression")]
    [Authorize(Roles = $"{Roles.Admin},{Roles.Auditor}")]
    [Tags("Webhooks")]
    public static async Task<TriggerExpressionCheck> Post(CheckTriggerExpression request, IQuerySession session, CancellationToken cancellation)
    {
        TriggerExpression expression;
        try
        {
            expression = TriggerExpression.Parse(request.Expression!);
        }
        catch (TriggerSyntaxException syntax)
        {
            return new TriggerExpressionCheck(false, syntax.Position, syntax.Reason, false, null, null);
        }

        var source = request.Application is { Length: > 0 } application && request.EventSource is { Length: > 0 } name
            ? await session.LoadAsync<EventSource>(EventSource.StreamId(application, name), cancellation)
            : null;
        var record = request.Record ?? (source?.SampleRecord is { } sample ? JsonSerializer.SerializeToElement(sample) : null);
        if (record is not { ValueKind: JsonValueKind.Object } tried)
        {
            return new TriggerExpressionCheck(true, null, null, false, null, null);
        }

        var entity = source?.Entity ?? "";
        var urn = source is null ? "" : $"urn:webhook:entity:{source.Table ?? source.Entity}:{source.Event}";
        try
        {
            return new TriggerExpressionCheck(true, null, null, true, expression.Matches(new TriggerInput(urn, null, entity, tried)), null);
        }
        catch (TriggerEvaluationException cannot)
        {
            return new TriggerExpressionCheck(true, null, null, true, null, cannot.Message);
        }
    }
}
