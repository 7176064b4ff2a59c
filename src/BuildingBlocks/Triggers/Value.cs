using System.Globalization;
using System.Text.Json;

namespace Webhooks.Triggers;

internal enum ValueKind : byte
{
    Null,
    String,
    Number,
    Boolean,

    /// <summary>An object or array: it can be tested for NULL, and compares equal to nothing.</summary>
    Structured,
}

/// <summary>A value during evaluation. A struct, so evaluating allocates nothing for numbers, booleans and NULL.</summary>
internal readonly struct Value
{
    public static readonly Value Null = new(ValueKind.Null, null, 0, false);
    public static readonly Value True = new(ValueKind.Boolean, null, 0, true);
    public static readonly Value False = new(ValueKind.Boolean, null, 0, false);
    public static readonly Value Structured = new(ValueKind.Structured, null, 0, false);

    private Value(ValueKind kind, string? text, double number, bool flag)
    {
        Kind = kind;
        Text = text;
        Number = number;
        Flag = flag;
    }

    public ValueKind Kind { get; }
    public string? Text { get; }
    public double Number { get; }
    public bool Flag { get; }

    public bool IsNull => Kind == ValueKind.Null;

    /// <summary>Only a boolean true is true; NULL and every other value count as false in a condition.</summary>
    public bool IsTrue => Kind == ValueKind.Boolean && Flag;

    public static Value Of(string? text) => text is null ? Null : new(ValueKind.String, text, 0, false);

    public static Value Of(double number) => new(ValueKind.Number, null, number, false);

    public static Value Of(bool flag) => flag ? True : False;

    public static Value Of(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => Of(element.GetString()),
        JsonValueKind.Number => Of(element.GetDouble()),
        JsonValueKind.True => True,
        JsonValueKind.False => False,
        JsonValueKind.Object or JsonValueKind.Array => Structured,
        _ => Null,
    };

    /// <summary>The value as text for the string functions: numbers and booleans in their invariant form.</summary>
    public string? AsText() => Kind switch
    {
        ValueKind.String => Text,
        ValueKind.Number => Number.ToString("R", CultureInfo.InvariantCulture),
        ValueKind.Boolean => Flag ? "true" : "false",
        _ => null,
    };

    /// <summary>
    /// Orders two values, or says they cannot be compared (NULL, or different types). A number and a string that
    /// reads as a number compare as numbers, because applications send most record fields as strings.
    /// </summary>
    public static int? Compare(in Value left, in Value right)
    {
        if (left.Kind == right.Kind)
        {
            return left.Kind switch
            {
                ValueKind.String => string.CompareOrdinal(left.Text, right.Text),
                ValueKind.Number => left.Number.CompareTo(right.Number),
                ValueKind.Boolean => left.Flag.CompareTo(right.Flag),
                _ => null,
            };
        }

        return (left.Kind, right.Kind) switch
        {
            (ValueKind.Number, ValueKind.String) when TryNumber(right.Text, out var n) => left.Number.CompareTo(n),
            (ValueKind.String, ValueKind.Number) when TryNumber(left.Text, out var n) => n.CompareTo(right.Number),
            _ => null,
        };
    }

    private static bool TryNumber(string? text, out double number) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number);
}
