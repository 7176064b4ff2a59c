using System.Text.Json;

namespace Webhooks.Triggers;

internal delegate Value Evaluator(in TriggerInput input);

/// <summary>Turns the syntax tree into a tree of closures, once; checks function names and argument counts.</summary>
internal static class Compiler
{
    private static readonly Dictionary<string, (int Min, int Max)> Functions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["LEFT"] = (1, 2),
        ["RIGHT"] = (2, 2),
        ["UPPER"] = (1, 1),
        ["LOWER"] = (1, 1),
        ["TRIM"] = (1, 1),
        ["LEN"] = (1, 1),
        ["CONTAINS"] = (2, 2),
    };

    public static Evaluator Compile(Node node) => node switch
    {
        LiteralNode literal => Constant(literal.Value),
        VariableNode variable => Variable(variable),
        CallNode call => Call(call),
        CompareNode compare => Compare(compare),
        IsNullNode isNull => IsNull(Compile(isNull.Operand), isNull.Negated),
        LikeNode { Pattern: LiteralNode literal } like when literal.Value.AsText() is { } text =>
            Like(Compile(like.Operand), new LikeMatcher(text), like.Negated),
        LikeNode like => Like(Compile(like.Operand), Compile(like.Pattern), like.Negated),
        InNode @in => In(Compile(@in.Operand), @in.Items.Select(Compile).ToArray(), @in.Negated),
        LogicalNode logical => Logical(Compile(logical.Left), logical.IsAnd, Compile(logical.Right)),
        NotNode not => Not(Compile(not.Operand)),
        _ => throw new InvalidOperationException($"Unknown node {node.GetType().Name}"),
    };

    private static Evaluator Constant(Value value) => (in TriggerInput _) => value;

    private static Evaluator Variable(VariableNode variable)
    {
        var name = variable.Name;
        return variable.Source switch
        {
            Source.EventSource => (in TriggerInput input) => Value.Of(input.EventSource),
            Source.ActionBy => (in TriggerInput input) => Value.Of(input.ActionBy),
            Source.Entity => (in TriggerInput input) => Value.Of(input.Entity),
            _ => (in TriggerInput input) =>
                input.Record.ValueKind == JsonValueKind.Object && input.Record.TryGetProperty(name, out var field)
                    ? Value.Of(field)
                    : Value.Null,
        };
    }

    private static Evaluator Compare(CompareNode compare)
    {
        var left = Compile(compare.Left);
        var right = Compile(compare.Right);
        Func<int, bool> test = compare.Operator switch
        {
            "=" => c => c == 0,
            "!=" or "<>" => c => c != 0,
            "<" => c => c < 0,
            "<=" => c => c <= 0,
            ">" => c => c > 0,
            _ => c => c >= 0,
        };

        // NULL and values of different types compare as false, whatever the operator: never an exception.
        return (in TriggerInput input) => Value.Compare(left(input), right(input)) is { } order && test(order) ? Value.True : Value.False;
    }

    private static Evaluator IsNull(Evaluator operand, bool negated) =>
        (in TriggerInput input) => Value.Of(operand(input).IsNull != negated);

    /// <summary>A pattern written in the expression: compiled once, reused for every event.</summary>
    private static Evaluator Like(Evaluator operand, LikeMatcher pattern, bool negated) => (in TriggerInput input) =>
        operand(input).AsText() is { } text ? Value.Of(pattern.Matches(text) != negated) : Value.False;

    /// <summary>A pattern taken from the event (a record field): bounded, since the publisher chooses it.</summary>
    private static Evaluator Like(Evaluator operand, Evaluator pattern, bool negated) => (in TriggerInput input) =>
    {
        var text = operand(input).AsText();
        var wildcard = pattern(input).AsText();
        if (wildcard is { Length: > LikeMatcher.MaxPatternLength })
        {
            throw new TriggerEvaluationException(
                $"LIKE takes patterns of at most {LikeMatcher.MaxPatternLength} characters; this event's is {wildcard.Length}");
        }

        return text is null || wildcard is null ? Value.False : Value.Of(new LikeMatcher(wildcard).Matches(text) != negated);
    };

    private static Evaluator In(Evaluator operand, Evaluator[] items, bool negated) => (in TriggerInput input) =>
    {
        var value = operand(input);
        if (value.IsNull)
        {
            return Value.False;
        }

        foreach (var item in items)
        {
            if (Value.Compare(value, item(input)) == 0)
            {
                return Value.Of(!negated);
            }
        }

        return Value.Of(negated);
    };

    private static Evaluator Logical(Evaluator left, bool isAnd, Evaluator right) => isAnd
        ? (in TriggerInput input) => left(input).IsTrue && right(input).IsTrue ? Value.True : Value.False
        : (in TriggerInput input) => left(input).IsTrue || right(input).IsTrue ? Value.True : Value.False;

    private static Evaluator Not(Evaluator operand) => (in TriggerInput input) => Value.Of(!operand(input).IsTrue);

    private static Evaluator Call(CallNode call)
    {
        if (!Functions.TryGetValue(call.Function, out var arity))
        {
            throw new TriggerSyntaxException(
                $"unknown function '{call.Function}'; the functions are {string.Join(", ", Functions.Keys)}", call.Offset);
        }

        if (call.Arguments.Count < arity.Min || call.Arguments.Count > arity.Max)
        {
            var expected = arity.Min == arity.Max ? $"{arity.Min}" : $"{arity.Min} or {arity.Max}";
            throw new TriggerSyntaxException(
                $"{call.Function.ToUpperInvariant()} takes {expected} argument(s), not {call.Arguments.Count}", call.Offset);
        }

        var args = call.Arguments.Select(Compile).ToArray();
        var function = call.Function.ToUpperInvariant();
        var position = call.Offset + 1;
        return function switch
        {
            "LEFT" when args.Length == 1 => Text(args[0], s => s.Length == 0 ? s : s[..1]),
            "LEFT" => Slice(args[0], args[1], position, "LEFT", (s, n) => s[..Math.Min(n, s.Length)]),
            "RIGHT" => Slice(args[0], args[1], position, "RIGHT", (s, n) => s[Math.Max(0, s.Length - n)..]),
            "UPPER" => Text(args[0], s => s.ToUpperInvariant()),
            "LOWER" => Text(args[0], s => s.ToLowerInvariant()),
            "TRIM" => Text(args[0], s => s.Trim()),
            "LEN" => (in TriggerInput input) => args[0](input).AsText() is { } s ? Value.Of(s.Length) : Value.Null,
            _ => (in TriggerInput input) =>
                args[0](input).AsText() is { } s && args[1](input).AsText() is { } t
                    ? Value.Of(s.Contains(t, StringComparison.Ordinal))
                    : Value.Null,
        };
    }

    private static Evaluator Text(Evaluator argument, Func<string, string> apply) =>
        (in TriggerInput input) => argument(input).AsText() is { } s ? Value.Of(apply(s)) : Value.Null;

    private static Evaluator Slice(Evaluator text, Evaluator count, int position, string name, Func<string, int, string> apply) =>
        (in TriggerInput input) =>
        {
            if (text(input).AsText() is not { } s)
            {
                return Value.Null;
            }

            var n = count(input);
            if (n.Kind != ValueKind.Number || n.Number < 0 || n.Number != Math.Floor(n.Number))
            {
                throw new TriggerEvaluationException(
                    $"{name} at position {position} needs a whole number of characters of at least 0, not {Describe(n)}");
            }

            return Value.Of(apply(s, (int)Math.Min(n.Number, int.MaxValue)));
        };

    private static string Describe(in Value value) => value.Kind switch
    {
        ValueKind.Null => "NULL",
        ValueKind.String => $"'{value.Text}'",
        _ => value.AsText() ?? "an object or array",
    };
}
