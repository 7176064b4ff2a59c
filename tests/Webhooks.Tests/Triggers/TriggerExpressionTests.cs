using System.Text.Json;
using Webhooks.Triggers;

namespace Webhooks.Tests.Triggers;

public sealed class TriggerExpressionTests
{
    private const string Record = """
        {
          "h_pk_id": "103", "h_name": "Gary", "h_email": "g@example.com", "h_jobtitle": "O'Brien's boss",
          "h_count": 42, "h_price": 9.5, "h_active": true, "h_closed": false, "h_missing_is_absent": null,
          "h_blank": "", "h_padded": "  pad  ", "h_nested": { "x": 1 }, "h_list": [1, 2], "Case": "upper"
        }
        """;

    private static bool Eval(string expression, string record = Record, string eventSource = "urn:webhook:entity:Contact:update",
        string? actionBy = "admin", string entity = "Contact")
    {
        using var document = JsonDocument.Parse(record);
        return TriggerExpression.Parse(expression).Matches(new TriggerInput(eventSource, actionBy, entity, document.RootElement));
    }

    [Theory]
    [InlineData("LEFT(h_name) = 'G' AND h_email NOT NULL", true)]
    [InlineData("LEFT(h_name) = 'G' AND h_missing NOT NULL", false)]
    [InlineData("LEFT(h_name) = 'X' AND h_email NOT NULL", false)]
    public void hornbills_own_example_works(string expression, bool expected) => Eval(expression).ShouldBe(expected);

    [Theory]
    [InlineData("h_name = 'Gary'", true)]
    [InlineData("h_name = 'gary'", false)]
    [InlineData("h_name != 'Gary'", false)]
    [InlineData("h_name <> 'Bob'", true)]
    [InlineData("h_count < 43", true)]
    [InlineData("h_count <= 42", true)]
    [InlineData("h_count > 42", false)]
    [InlineData("h_count >= 42", true)]
    [InlineData("h_price = 9.5", true)]
    [InlineData("h_count = -1", false)]
    [InlineData("h_name < 'Harry'", true)]
    [InlineData("h_active = TRUE", true)]
    [InlineData("h_closed = false", true)]
    public void comparisons(string expression, bool expected) => Eval(expression).ShouldBe(expected);

    [Theory]
    [InlineData("h_pk_id = 103", true)]
    [InlineData("h_pk_id > 100", true)]
    [InlineData("103 = h_pk_id", true)]
    [InlineData("h_name = 5", false)]
    [InlineData("h_name != 5", false)]
    [InlineData("h_count = '42'", true)]
    [InlineData("h_active = 'true'", false)]
    [InlineData("h_nested = 1", false)]
    [InlineData("h_list = 1", false)]
    [InlineData("h_active > 1", false)]
    public void values_of_different_types_compare_as_false_except_numbers_written_as_strings(string expression, bool expected) =>
        Eval(expression).ShouldBe(expected);

    [Theory]
    [InlineData("h_missing = 'x'", false)]
    [InlineData("h_missing != 'x'", false)]
    [InlineData("h_missing = NULL", false)]
    [InlineData("h_missing IS NULL", true)]
    [InlineData("h_missing_is_absent IS NULL", true)]
    [InlineData("h_name IS NULL", false)]
    [InlineData("h_name IS NOT NULL", true)]
    [InlineData("h_missing IS NOT NULL", false)]
    [InlineData("h_name NOT NULL", true)]
    [InlineData("h_missing NOT NULL", false)]
    [InlineData("h_blank IS NULL", false)]
    [InlineData("h_nested IS NOT NULL", true)]
    [InlineData("NOT h_missing = 'x'", true)]
    [InlineData("h_missing", false)]
    [InlineData("NULL", false)]
    public void missing_fields_are_null_and_null_compares_as_false(string expression, bool expected) => Eval(expression).ShouldBe(expected);

    [Theory]
    [InlineData("h_name LIKE 'G%'", true)]
    [InlineData("h_name LIKE '%ry'", true)]
    [InlineData("h_name LIKE '%ar%'", true)]
    [InlineData("h_name LIKE 'G_ry'", true)]
    [InlineData("h_name LIKE 'G_y'", false)]
    [InlineData("h_name LIKE 'Gary'", true)]
    [InlineData("h_name LIKE 'gary'", false)]
    [InlineData("h_name NOT LIKE 'B%'", true)]
    [InlineData("h_email LIKE '%@%.com'", true)]
    [InlineData("h_blank LIKE '%'", true)]
    [InlineData("h_missing LIKE '%'", false)]
    [InlineData("h_missing NOT LIKE '%'", false)]
    [InlineData("h_count LIKE '4%'", true)]
    public void like_matches_percent_and_underscore(string expression, bool expected) => Eval(expression).ShouldBe(expected);

    [Theory]
    [InlineData("h_name IN ('Bob', 'Gary')", true)]
    [InlineData("h_name IN ('Bob')", false)]
    [InlineData("h_name NOT IN ('Bob', 'Alice')", true)]
    [InlineData("h_count IN (1, 42)", true)]
    [InlineData("h_pk_id IN (103, 104)", true)]
    [InlineData("h_missing IN ('x', NULL)", false)]
    [InlineData("h_missing NOT IN ('x')", false)]
    public void in_lists(string expression, bool expected) => Eval(expression).ShouldBe(expected);

    [Theory]
    [InlineData("LEFT(h_name) = 'G'", true)]
    [InlineData("LEFT(h_name, 2) = 'Ga'", true)]
    [InlineData("LEFT(h_name, 10) = 'Gary'", true)]
    [InlineData("LEFT(h_name, 0) = ''", true)]
    [InlineData("RIGHT(h_name, 2) = 'ry'", true)]
    [InlineData("RIGHT(h_name, 9) = 'Gary'", true)]
    [InlineData("UPPER(h_name) = 'GARY'", true)]
    [InlineData("LOWER(h_name) = 'gary'", true)]
    [InlineData("TRIM(h_padded) = 'pad'", true)]
    [InlineData("LEN(h_name) = 4", true)]
    [InlineData("LEN(h_blank) = 0", true)]
    [InlineData("LEN(h_count) = 2", true)]
    [InlineData("CONTAINS(h_email, '@example')", true)]
    [InlineData("CONTAINS(h_email, 'EXAMPLE')", false)]
    [InlineData("CONTAINS(UPPER(h_email), 'EXAMPLE')", true)]
    [InlineData("LEFT(h_missing) IS NULL", true)]
    [InlineData("LEN(h_missing) IS NULL", true)]
    [InlineData("CONTAINS(h_missing, 'x')", false)]
    [InlineData("left(h_name) = 'G'", true)]
    [InlineData("Upper(h_name) = 'GARY'", true)]
    public void functions(string expression, bool expected) => Eval(expression).ShouldBe(expected);

    [Theory]
    [InlineData("h_name = 'Gary' and h_count = 42", true)]
    [InlineData("h_name = 'Gary' AND h_count = 1", false)]
    [InlineData("h_name = 'Bob' OR h_count = 42", true)]
    [InlineData("h_name = 'Bob' or h_count = 1", false)]
    [InlineData("NOT h_name = 'Bob'", true)]
    [InlineData("not (h_name = 'Gary')", false)]
    [InlineData("h_name = 'Bob' AND h_count = 1 OR h_active = TRUE", true)]
    [InlineData("h_name = 'Bob' AND (h_count = 1 OR h_active = TRUE)", false)]
    [InlineData("h_name = 'Gary' OR h_count = 1 AND h_active = FALSE", true)]
    [InlineData("(h_name = 'Gary' OR h_count = 1) AND h_active = FALSE", false)]
    [InlineData("h_active", true)]
    [InlineData("NOT h_closed", true)]
    [InlineData("TRUE", true)]
    [InlineData("FALSE OR TRUE", true)]
    [InlineData("h_name Is Not Null", true)]
    public void logic_precedence_and_case_insensitive_keywords(string expression, bool expected) => Eval(expression).ShouldBe(expected);

    [Theory]
    [InlineData("record.h_name = 'Gary'", true)]
    [InlineData("record.Case = 'upper'", true)]
    [InlineData("case = 'upper'", false)]
    [InlineData("Case = 'upper'", true)]
    [InlineData("record.h_Name IS NULL", true)]
    [InlineData("eventSource = 'urn:webhook:entity:Contact:update'", true)]
    [InlineData("eventSource LIKE '%:update'", true)]
    [InlineData("actionBy = 'admin'", true)]
    [InlineData("entity = 'Contact'", true)]
    [InlineData("ENTITY = 'Contact'", false)]
    public void names_are_case_sensitive_and_metadata_is_reachable(string expression, bool expected) => Eval(expression).ShouldBe(expected);

    [Theory]
    [InlineData("h_jobtitle = 'O''Brien''s boss'", true)]
    [InlineData("h_name = ''", false)]
    [InlineData("h_blank = ''", true)]
    [InlineData("h_name = 'Ga' + 'ry'", false)]
    public void strings_escape_quotes_by_doubling(string expression, bool expected)
    {
        if (expression.Contains('+', StringComparison.Ordinal))
        {
            Should.Throw<TriggerSyntaxException>(() => TriggerExpression.Parse(expression));
            return;
        }

        Eval(expression).ShouldBe(expected);
    }

    [Fact]
    public void an_action_by_that_is_null_is_null()
    {
        Eval("actionBy IS NULL", actionBy: null).ShouldBeTrue();
        Eval("h_name = 'x'", record: "[1,2]").ShouldBeFalse();
    }

    [Theory]
    [InlineData("h_name = ", 10, "expected a value")]
    [InlineData("h_name = 'Gary", 15, "not closed")]
    [InlineData("h_name = 'Gary' AND", 20, "expected a condition after AND")]
    [InlineData("(h_name = 'Gary'", 17, "expected ')'")]
    [InlineData("h_name IN 'Gary'", 11, "expected '(' after IN")]
    [InlineData("h_name IN ('a' 'b')", 16, "expected ',' or ')'")]
    [InlineData("h_name IS 'x'", 11, "expected NULL or NOT NULL")]
    [InlineData("h_name NOT 'x'", 12, "expected NULL, LIKE or IN")]
    [InlineData("h_name = 'Gary' garbage", 17, "unexpected text")]
    [InlineData("", 1, "expected a condition")]
    [InlineData("AND", 1, "expected a condition")]
    [InlineData("FOO(h_name) = 1", 1, "unknown function 'FOO'")]
    [InlineData("h_a = 1 AND RIGHT(h_name) = 'y'", 13, "RIGHT takes 2 argument(s), not 1")]
    [InlineData("LEFT(h_name, 1, 2) = 'G'", 1, "LEFT takes 1 or 2 argument(s), not 3")]
    [InlineData("record. = 1", 9, "expected a field name")]
    [InlineData("h_name == 'x'", 9, "expected a value")]
    public void syntax_errors_name_their_position(string expression, int position, string reason)
    {
        var error = Should.Throw<TriggerSyntaxException>(() => TriggerExpression.Parse(expression));

        error.Reason.ShouldContain(reason);
        error.Position.ShouldBe(position);
        error.Message.ShouldContain($"at position {position}");
    }

    [Theory]
    [InlineData("LEFT(h_name, -1) = 'x'", "LEFT at position 1")]
    [InlineData("RIGHT(h_name, 'two') = 'x'", "not 'two'")]
    [InlineData("LEFT(h_name, 1.5) = 'x'", "whole number")]
    public void what_cannot_be_evaluated_for_an_event_says_why(string expression, string reason)
    {
        var error = Should.Throw<TriggerEvaluationException>(() => Eval(expression));
        error.Message.ShouldContain(reason);
    }

    [Fact]
    public void like_never_backtracks_exponentially()
    {
        var text = new string('a', 5000);
        var record = JsonSerializer.Serialize(new { h = text });

        Eval("h LIKE '%a%a%a%a%a%a%a%a%a%a%b'", record).ShouldBeFalse();
        Eval("h LIKE '%a%a%a%a%a%a%a%a%a%a%'", record).ShouldBeTrue();
    }

    [Fact]
    public void like_costs_at_most_a_word_per_64_pattern_characters_per_text_character()
    {
        // Issue 11: 3.7 s of backtracking per publish for this shape before the automaton.
        var text = new string('a', 250_000);
        var pattern = "%" + new string('a', 4000) + "b%";

        LikeMatching.Matches(text, pattern, out var work).ShouldBeFalse();

        work.ShouldBeLessThanOrEqualTo(text.Length * ((4001 / 64) + 1), "no backtracking: bounded by text × pattern / 64");
        Eval($"h LIKE '{pattern}'", JsonSerializer.Serialize(new { h = text })).ShouldBeFalse();
        Eval($"h LIKE '{pattern}'", JsonSerializer.Serialize(new { h = text + "b" })).ShouldBeTrue();
    }

    [Fact]
    public void the_automaton_and_backtracking_agree_with_a_regular_expression()
    {
        var random = new Random(11);
        const string alphabet = "ab_%";
        for (var i = 0; i < 20_000; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 12)).Select(_ => "ab"[random.Next(2)]).ToArray());
            var pattern = new string(Enumerable.Range(0, random.Next(0, 8)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            var regex = "^" + string.Concat(pattern.Select(c => c switch { '%' => ".*", '_' => ".", _ => c.ToString() })) + "$";
            var expected = System.Text.RegularExpressions.Regex.IsMatch(text, regex, System.Text.RegularExpressions.RegexOptions.Singleline);

            LikePattern.Of(pattern).Matches(text).ShouldBe(expected, $"'{text}' LIKE '{pattern}'");
            LikeMatching.Greedy(text, pattern).ShouldBe(expected, $"'{text}' LIKE '{pattern}' (greedy)");
        }
    }

    [Fact]
    public void the_automaton_agrees_with_a_regular_expression_across_machine_words()
    {
        var random = new Random(64);
        for (var i = 0; i < 2_000; i++)
        {
            var pattern = new string(Enumerable.Range(0, random.Next(60, 200)).Select(_ => "ab_%"[random.Next(10) switch { < 4 => 0, < 8 => 1, 8 => 2, _ => 3 }]).ToArray());
            var text = random.Next(2) == 0
                ? new string(Enumerable.Range(0, random.Next(0, 300)).Select(_ => "ab"[random.Next(2)]).ToArray())
                : string.Concat(pattern.Select(c => c switch { '%' => new string('a', random.Next(0, 3)), '_' => "b", _ => c.ToString() }));
            var regex = "^" + string.Concat(pattern.Select(c => c switch { '%' => ".*", '_' => ".", _ => c.ToString() })) + "$";
            var expected = System.Text.RegularExpressions.Regex.IsMatch(text, regex, System.Text.RegularExpressions.RegexOptions.Singleline);

            LikePattern.Of(pattern).Matches(text).ShouldBe(expected, $"'{text}' LIKE '{pattern}'");
        }
    }

    [Fact]
    public void a_pattern_taken_from_the_event_is_bounded()
    {
        var record = JsonSerializer.Serialize(new { h = "abc", p = new string('%', LikeMatcher.MaxPatternLength + 1) });

        Should.Throw<TriggerEvaluationException>(() => Eval("h LIKE p", record)).Message.ShouldContain("at most 4000 characters");
        Eval("h LIKE p", JsonSerializer.Serialize(new { h = "abc", p = "a%" })).ShouldBeTrue();
    }

    [Fact]
    public void one_parsed_expression_is_evaluated_many_times_and_keeps_its_text()
    {
        var expression = TriggerExpression.Parse("h_count > 10");
        expression.Text.ShouldBe("h_count > 10");

        for (var i = 0; i < 20; i++)
        {
            using var document = JsonDocument.Parse($$"""{"h_count": {{i}}}""");
            expression.Matches(new TriggerInput("e", null, "X", document.RootElement)).ShouldBe(i > 10);
        }
    }
}
