namespace Webhooks.Triggers;

/// <summary>
/// SQL LIKE: '%' matches any run of characters, '_' exactly one; everything else matches itself (ordinal).
/// </summary>
/// <remarks>
/// The cost is bounded by the sizes, never by how adversarial they are (issue 11: a 250,000-character field against a
/// 4,000-character pattern took 3.7 s of backtracking per publish). Small inputs (text length × pattern length up to
/// <see cref="BacktrackingBudget"/>) use greedy matching that backtracks to the last '%' only; larger ones run the
/// pattern as an automaton over bit sets, one step per text character costing one machine word per 64 pattern
/// characters: at most about 16 million word operations for the largest field against the longest pattern.
/// </remarks>
public static class LikeMatching
{
    /// <summary>Up to this text length × pattern length, backtracking is cheaper than the automaton and bounded anyway.</summary>
    public const long BacktrackingBudget = 1 << 16;

    /// <summary>Whether <paramref name="text"/> is LIKE <paramref name="pattern"/>.</summary>
    public static bool Matches(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern) => Matches(text, pattern, out _);

    /// <summary>Matches, and says how many steps it took (backtracking steps or automaton word operations).</summary>
    public static bool Matches(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern, out long work)
    {
        if ((long)text.Length * pattern.Length <= BacktrackingBudget)
        {
            return Greedy(text, pattern, out work);
        }

        return LikePattern.Of(pattern).Matches(text, out work);
    }

    /// <summary>Greedy matching that backtracks only to the last '%': O(text × pattern) in the worst case.</summary>
    public static bool Greedy(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern) => Greedy(text, pattern, out _);

    private static bool Greedy(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern, out long work)
    {
        work = 0;
        int t = 0, p = 0, starPattern = -1, starText = 0;
        while (t < text.Length)
        {
            work++;
            if (p < pattern.Length && (pattern[p] == '_' || (pattern[p] != '%' && pattern[p] == text[t])))
            {
                t++;
                p++;
            }
            else if (p < pattern.Length && pattern[p] == '%')
            {
                starPattern = p++;
                starText = t;
            }
            else if (starPattern >= 0)
            {
                p = starPattern + 1;
                t = ++starText;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '%')
        {
            p++;
        }

        return p == pattern.Length;
    }
}

/// <summary>
/// A LIKE pattern as a trigger holds it: the automaton, when needed, is built once and kept (a pattern written in the
/// expression is matched against every event).
/// </summary>
public sealed class LikeMatcher(string pattern)
{
    /// <summary>The longest pattern matched; a trigger expression is at most as long, a pattern from an event is refused.</summary>
    public const int MaxPatternLength = 4000;

    private LikePattern? automaton;

    /// <summary>Whether <paramref name="text"/> is LIKE the pattern.</summary>
    public bool Matches(ReadOnlySpan<char> text) =>
        (long)text.Length * pattern.Length <= LikeMatching.BacktrackingBudget
            ? LikeMatching.Greedy(text, pattern)
            : (automaton ??= LikePattern.Of(pattern)).Matches(text);
}

/// <summary>
/// A LIKE pattern compiled to a bit-parallel automaton (Shift-And with self-loops for '%'): state i means "the first i
/// characters of the pattern (not counting '%') matched"; a text character moves every state whose next pattern
/// character matches it one state on, and a '%' before a state lets that state stay. Linear in the text.
/// </summary>
public sealed class LikePattern
{
    private readonly int words;
    private readonly Dictionary<char, ulong[]> matching;
    private readonly ulong[] anyCharacter;
    private readonly ulong[] stays;
    private readonly int accepting;

    private LikePattern(ReadOnlySpan<char> pattern)
    {
        var tokens = new List<char>();
        var star = new List<bool> { false };
        foreach (var c in pattern)
        {
            if (c == '%')
            {
                star[^1] = true;
            }
            else
            {
                tokens.Add(c);
                star.Add(false);
            }
        }

        accepting = tokens.Count;
        words = (tokens.Count / 64) + 1;
        anyCharacter = new ulong[words];
        stays = new ulong[words];
        matching = [];
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] == '_')
            {
                Set(anyCharacter, i);
            }
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] != '_')
            {
                if (!matching.TryGetValue(tokens[i], out var mask))
                {
                    matching[tokens[i]] = mask = (ulong[])anyCharacter.Clone();
                }

                Set(mask, i);
            }
        }

        for (var i = 0; i < star.Count; i++)
        {
            if (star[i])
            {
                Set(stays, i);
            }
        }
    }

    /// <summary>Compiles a pattern; O(pattern length).</summary>
    public static LikePattern Of(ReadOnlySpan<char> pattern) => new(pattern);

    /// <summary>Whether <paramref name="text"/> is LIKE this pattern.</summary>
    public bool Matches(ReadOnlySpan<char> text) => Matches(text, out _);

    /// <summary>Matches, and says how many word operations it took: the bound the tests hold it to.</summary>
    public bool Matches(ReadOnlySpan<char> text, out long work)
    {
        var active = new ulong[words];
        var next = new ulong[words];
        active[0] = 1;
        long steps = 0;
        foreach (var c in text)
        {
            var mask = matching.TryGetValue(c, out var m) ? m : anyCharacter;
            ulong carry = 0, any = 0;
            for (var w = 0; w < words; w++)
            {
                var advanced = active[w] & mask[w];
                next[w] = (advanced << 1) | carry | (active[w] & stays[w]);
                carry = advanced >> 63;
                any |= next[w];
            }

            steps += words;
            (active, next) = (next, active);
            if (any == 0)
            {
                work = steps;
                return false;
            }
        }

        work = steps;
        return (active[accepting / 64] & (1UL << (accepting % 64))) != 0;
    }

    private static void Set(ulong[] bits, int index) => bits[index / 64] |= 1UL << (index % 64);
}
