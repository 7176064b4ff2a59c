using System.Text.Json;

namespace Webhooks.Triggers;

/// <summary>What a trigger expression is evaluated against: the event's metadata and the application's record.</summary>
/// <param name="EventSource">The event source (<c>eventSource</c> in expressions).</param>
/// <param name="ActionBy">Who acted in the application (<c>actionBy</c>).</param>
/// <param name="Entity">The entity (<c>entity</c>).</param>
/// <param name="Record">The record as the application sent it; its fields are <c>record.&lt;field&gt;</c> or bare names.</param>
public readonly record struct TriggerInput(string EventSource, string? ActionBy, string Entity, JsonElement Record);

/// <summary>A trigger expression does not parse. <see cref="Position"/> is 1-based, counted in characters.</summary>
public sealed class TriggerSyntaxException(string reason, int offset) : Exception($"{reason} at position {offset + 1}")
{
    /// <summary>Why, without the position.</summary>
    public string Reason { get; } = reason;

    /// <summary>The 1-based character position of the problem.</summary>
    public int Position { get; } = offset + 1;
}

/// <summary>A trigger expression cannot be evaluated for one event (e.g. LEFT with a negative length).</summary>
public sealed class TriggerEvaluationException(string message) : Exception(message);

/// <summary>
/// A Hornbill-style trigger expression such as <c>LEFT(h_name) = 'G' AND h_email NOT NULL</c>: parsed once (a syntax
/// error names its position), then evaluated many times as a tree of closures; user text is never compiled as code.
/// Comparisons with NULL, and between values of different types, are false, never an error; a number and a string
/// that reads as a number compare as numbers. String comparisons, LIKE and CONTAINS are case-sensitive (use UPPER or
/// LOWER for the other kind); keywords and function names are not.
/// </summary>
public sealed class TriggerExpression
{
    private readonly Evaluator evaluate;

    private TriggerExpression(string text, Evaluator evaluate)
    {
        Text = text;
        this.evaluate = evaluate;
    }

    /// <summary>The expression as written.</summary>
    public string Text { get; }

    /// <summary>Parses an expression.</summary>
    /// <param name="text">The expression.</param>
    /// <exception cref="TriggerSyntaxException">It does not parse; the message names the position.</exception>
    public static TriggerExpression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Syntax.Expression.TryParse(text, out var tree, out var error))
        {
            // Parlot reports where its cursor stood, which may be before the whitespace preceding the culprit.
            var offset = error?.Position.Offset ?? 0;
            while (offset < text.Length && char.IsWhiteSpace(text[offset]))
            {
                offset++;
            }

            var near = offset < text.Length ? $" near '{Snippet(text, offset)}'" : " at the end";
            throw new TriggerSyntaxException((error?.Message ?? "this is not a valid expression") + near, offset);
        }

        return new TriggerExpression(text, Compiler.Compile(tree));
    }

    /// <summary>Whether the event matches. A value that is not a boolean true (NULL included) does not match.</summary>
    /// <param name="input">The event.</param>
    /// <exception cref="TriggerEvaluationException">The expression cannot be evaluated for this event.</exception>
    public bool Matches(in TriggerInput input) => evaluate(input).IsTrue;

    /// <inheritdoc />
    public override string ToString() => Text;

    private static string Snippet(string text, int offset)
    {
        var rest = text[offset..];
        return rest.Length <= 20 ? rest : rest[..20] + "...";
    }
}
