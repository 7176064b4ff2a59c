using Parlot;
using Parlot.Fluent;
using static Parlot.Fluent.Parsers;

namespace Webhooks.Triggers;

internal abstract record Node(int Offset);

internal sealed record LiteralNode(Value Value, int Offset) : Node(Offset);

internal enum Source
{
    Record,
    EventSource,
    ActionBy,
    Entity,
}

internal sealed record VariableNode(Source Source, string Name, int Offset) : Node(Offset);

internal sealed record CallNode(string Function, IReadOnlyList<Node> Arguments, int Offset) : Node(Offset);

internal sealed record CompareNode(Node Left, string Operator, Node Right, int Offset) : Node(Offset);

internal sealed record IsNullNode(Node Operand, bool Negated, int Offset) : Node(Offset);

internal sealed record LikeNode(Node Operand, Node Pattern, bool Negated, int Offset) : Node(Offset);

internal sealed record InNode(Node Operand, IReadOnlyList<Node> Items, bool Negated, int Offset) : Node(Offset);

internal sealed record LogicalNode(Node Left, bool IsAnd, Node Right, int Offset) : Node(Offset);

internal sealed record NotNode(Node Operand, int Offset) : Node(Offset);

/// <summary>What follows an operand: a comparison, IS [NOT] NULL, [NOT] LIKE, [NOT] IN, or Hornbill's postfix NOT NULL.</summary>
internal sealed record Suffix(Func<Node, Node> Apply);

/// <summary>The grammar (Parlot parser combinators). Keywords and function names are case-insensitive; names are not.</summary>
internal static class Syntax
{
    private static readonly string[] Reserved = ["AND", "OR", "NOT", "IS", "NULL", "LIKE", "IN", "TRUE", "FALSE"];

    public static readonly Parser<Node> Expression = Build();

    private static Parser<string> Keyword(string word) => Terms.Keyword(word, caseInsensitive: true).Then(_ => word);

    private static Parser<Node> Build()
    {
        var expression = Deferred<Node>();

        var number = Terms.Number<double>(NumberOptions.Float)
            .Then<Node>((_, start, _, n) => new LiteralNode(Value.Of(n), start));

        // 'it''s': a doubled quote is a quote; no other escapes, as in SQL.
        var stringBody = ZeroOrMany(OneOf(
            Literals.Text("''").Then(_ => "'"),
            Literals.NoneOf("'", minSize: 1).Then(span => span.ToString())));
        var text = Terms.Char('\'')
            .And(stringBody)
            .And(Literals.Char('\'').ElseError("this string is not closed with a quote"))
            .Then<Node>((_, start, _, parts) => new LiteralNode(Value.Of(string.Concat(parts.Item2)), start));

        var constant = OneOf(
            Keyword("TRUE").Then<Node>((_, start, _, _) => new LiteralNode(Value.True, start)),
            Keyword("FALSE").Then<Node>((_, start, _, _) => new LiteralNode(Value.False, start)),
            Keyword("NULL").Then<Node>((_, start, _, _) => new LiteralNode(Value.Null, start)));

        var name = Terms.Identifier().Then(span => span.ToString());

        var arguments = Between(
            Terms.Char('('),
            Separated(Terms.Char(','), expression),
            Terms.Char(')').ElseError("expected ',' or ')' in the function's arguments"));
        var call = name.And(arguments)
            .Then<Node>((_, start, _, parts) => new CallNode(parts.Item1, parts.Item2, start));

        var recordField = Terms.Text("record.", caseInsensitive: false)
            .SkipAnd(Literals.Identifier().ElseError("expected a field name after 'record.'"))
            .Then<Node>((_, start, _, field) => new VariableNode(Source.Record, field.ToString(), start));

        var variable = name
            .When((_, word) => !Reserved.Contains(word, StringComparer.OrdinalIgnoreCase))
            .Then<Node>((_, start, _, word) => word switch
            {
                "eventSource" => new VariableNode(Source.EventSource, word, start),
                "actionBy" => new VariableNode(Source.ActionBy, word, start),
                "entity" => new VariableNode(Source.Entity, word, start),
                _ => new VariableNode(Source.Record, word, start),
            });

        var group = Between(
            Terms.Char('('),
            expression.ElseError("expected a condition inside the parentheses"),
            Terms.Char(')').ElseError("expected ')'"));

        var operand = OneOf(number, text, constant, call, recordField, variable, group);
        var requiredOperand = operand.ElseError("expected a value: a field, a 'string', a number, TRUE, FALSE, NULL or a function");

        var comparison = OneOf(
                Terms.Text("<="), Terms.Text(">="), Terms.Text("<>"), Terms.Text("!="),
                Terms.Text("="), Terms.Text("<"), Terms.Text(">"))
            .And(requiredOperand)
            .Then((_, start, _, parts) => new Suffix(left => new CompareNode(left, parts.Item1, parts.Item2, start)));

        var list = Between(
            Terms.Char('(').ElseError("expected '(' after IN"),
            Separated(Terms.Char(','), requiredOperand),
            Terms.Char(')').ElseError("expected ',' or ')' in the IN list"));

        var isNull = Keyword("IS").SkipAnd(ZeroOrOne(Keyword("NOT")))
            .AndSkip(Keyword("NULL").ElseError("expected NULL or NOT NULL after IS"))
            .Then((_, start, _, not) => new Suffix(left => new IsNullNode(left, Negated: not.Count > 0, start)));
        var like = Keyword("LIKE").SkipAnd(requiredOperand)
            .Then((_, start, _, pattern) => new Suffix(left => new LikeNode(left, pattern, Negated: false, start)));
        var @in = Keyword("IN").SkipAnd(list)
            .Then((_, start, _, items) => new Suffix(left => new InNode(left, items, Negated: false, start)));
        var negated = Keyword("NOT").SkipAnd(OneOf(
                Keyword("NULL").Then((_, start, _, _) => new Suffix(left => new IsNullNode(left, Negated: true, start))),
                Keyword("LIKE").SkipAnd(requiredOperand)
                    .Then((_, start, _, pattern) => new Suffix(left => new LikeNode(left, pattern, Negated: true, start))),
                Keyword("IN").SkipAnd(list)
                    .Then((_, start, _, items) => new Suffix(left => new InNode(left, items, Negated: true, start))))
            .ElseError("expected NULL, LIKE or IN after NOT"));

        var predicate = operand.And(ZeroOrOne(OneOf(comparison, isNull, like, @in, negated)))
            .Then(parts => parts.Item2 is [var suffix] ? suffix.Apply(parts.Item1) : parts.Item1);

        var not = Recursive<Node>(self => OneOf(
            Keyword("NOT").And(self.ElseError("expected a condition after NOT"))
                .Then<Node>((_, start, _, parts) => new NotNode(parts.Item2, start)),
            predicate));

        var and = not.And(ZeroOrMany(Keyword("AND").And(not.ElseError("expected a condition after AND"))))
            .Then(parts => parts.Item2.Aggregate(parts.Item1, (left, next) => new LogicalNode(left, true, next.Item2, left.Offset)));
        var or = and.And(ZeroOrMany(Keyword("OR").And(and.ElseError("expected a condition after OR"))))
            .Then(parts => parts.Item2.Aggregate(parts.Item1, (left, next) => new LogicalNode(left, false, next.Item2, left.Offset)));

        expression.Parser = or;
        return expression.ElseError("expected a condition, e.g. h_name = 'x'").AndSkip(Parsers.Eof().ElseError("unexpected text"));
    }
}
