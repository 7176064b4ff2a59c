namespace Webhooks.Triggers;

/// <summary>SQL LIKE: '%' matches any run of characters, '_' exactly one; everything else matches itself (ordinal).</summary>
internal static class Like
{
    /// <summary>Greedy matching that backtracks only to the last '%': linear for the usual patterns, never exponential.</summary>
    public static bool Matches(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern)
    {
        int t = 0, p = 0, starPattern = -1, starText = 0;
        while (t < text.Length)
        {
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
