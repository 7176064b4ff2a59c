using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Html;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console;

/// <summary>
/// Deliveries over time as stacked bars: the bars drawn on the server as SVG (no script, no third-party library, no
/// inline style for the CSP to refuse), the axes' labels in HTML so they read at the page's text size at any width.
/// The chart is an image whose text alternative says what it shows; the same numbers are in a table behind a disclosure.
/// </summary>
public static class Chart
{
    // The drawing's own units: the SVG stretches to the box the stylesheet gives it (bars are rectangles, so they may).
    private const double Width = 240;
    private const double Height = 100;
    private static readonly int[] Steps = [1, 2, 5, 10];

    public static IHtmlContent Deliveries(IReadOnlyList<StatsBucket> series, string title)
    {
        var (succeeded, failed, pending) = (series.Sum(b => b.Succeeded), series.Sum(b => b.Failed), series.Sum(b => b.Pending));
        if (series.Count == 0 || succeeded + failed + pending == 0)
        {
            return new HtmlString($"""<p class="muted">No deliveries in this window.</p>""");
        }

        var max = Nice(series.Max(b => b.Succeeded + b.Failed + b.Pending));
        var slot = Width / series.Count;
        var bar = slot * 0.72;
        var summary = $"{title}: {succeeded:N0} succeeded, {failed:N0} failed, {pending:N0} pending, from {Format.Time(series[0].From)}.";
        var html = new StringBuilder();
        html.Append("""<div class="chart-box"><div class="chart-y" aria-hidden="true">""")
            .Append(CultureInfo.InvariantCulture, $"<span>{max:N0}</span><span>{max / 2.0:#,0.#}</span><span>0</span></div>")
            .Append(CultureInfo.InvariantCulture, $"""<svg class="chart" viewBox="0 0 {Width} {Height}" preserveAspectRatio="none" role="img" aria-label="{Encode(summary)}">""");
        foreach (var fraction in new[] { 0.0, 0.5, 1.0 })
        {
            var y = Height * (1 - fraction);
            html.Append(CultureInfo.InvariantCulture, $"""<line class="grid" x1="0" x2="{Width}" y1="{y:0.##}" y2="{y:0.##}" vector-effect="non-scaling-stroke"/>""");
        }

        for (var i = 0; i < series.Count; i++)
        {
            var b = series[i];
            var x = (slot * i) + ((slot - bar) / 2);
            var top = Height;
            foreach (var (count, css) in new[] { (b.Succeeded, "ok"), (b.Failed, "bad"), (b.Pending, "pending") })
            {
                if (count == 0)
                {
                    continue;
                }

                var h = Height * count / max;
                top -= h;
                html.Append(CultureInfo.InvariantCulture,
                    $"""<rect class="{css}" x="{x:0.###}" y="{top:0.###}" width="{bar:0.###}" height="{h:0.###}"><title>{Encode($"{Format.Time(b.From)}: {count:N0} {Name(css)}")}</title></rect>""");
            }
        }

        html.Append("</svg></div>");
        // Four time labels, at the start of each quarter of the window (24 buckets: every 6th).
        html.Append("""<div class="chart-x" aria-hidden="true">""");
        var every = Math.Max(1, series.Count / 4);
        for (var i = 0; i < series.Count; i += every)
        {
            html.Append(CultureInfo.InvariantCulture, $"<span>{series[i].From.UtcDateTime.ToString(i == 0 ? "d MMM HH:mm" : "HH:mm", CultureInfo.InvariantCulture)}</span>");
        }

        html.Append("</div>");
        html.Append("""<p class="legend" aria-hidden="true"><span class="ok">Succeeded</span><span class="bad">Failed</span><span class="pending">Pending</span><span class="muted">(UTC)</span></p>""");
        html.Append("<details><summary>Show as a table</summary><div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"")
            .Append(Encode(title)).Append("\"><table><thead><tr><th scope=\"col\">From (UTC)</th><th scope=\"col\" class=\"num\">Succeeded</th>")
            .Append("<th scope=\"col\" class=\"num\">Failed</th><th scope=\"col\" class=\"num\">Pending</th></tr></thead><tbody>");
        foreach (var b in series)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{Format.Time(b.From)}</td><td class=\"num\">{b.Succeeded:N0}</td><td class=\"num\">{b.Failed:N0}</td><td class=\"num\">{b.Pending:N0}</td></tr>");
        }

        html.Append("</tbody></table></div></details>");
        return new HtmlString(html.ToString());
    }

    /// <summary>The axis' top: the tallest bar rounded up to 1, 2 or 5 times a power of ten.</summary>
    private static double Nice(int tallest)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(1, tallest))));
        return Steps.Select(m => m * magnitude).First(v => v >= tallest);
    }

    private static string Name(string css) => css switch { "ok" => "succeeded", "bad" => "failed", _ => "pending" };

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
