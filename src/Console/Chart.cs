using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Html;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Console;

/// <summary>
/// Deliveries over time as stacked bars, drawn on the server as SVG (no script, no third-party library). It is an
/// image with a text alternative that says what it shows; the same numbers are in a table behind a disclosure.
/// </summary>
public static class Chart
{
    private const int Width = 720;
    private const int Height = 180;
    private const int Left = 36;
    private const int Bottom = 22;

    public static IHtmlContent Deliveries(IReadOnlyList<StatsBucket> series, string title)
    {
        var max = Math.Max(1, series.Max(b => b.Succeeded + b.Failed + b.Pending));
        var plot = Height - Bottom - 6;
        var slot = (Width - Left) / (double)Math.Max(1, series.Count);
        var bar = Math.Max(2, slot * 0.7);
        var (succeeded, failed, pending) = (series.Sum(b => b.Succeeded), series.Sum(b => b.Failed), series.Sum(b => b.Pending));
        var summary = $"{title}: {succeeded:N0} succeeded, {failed:N0} failed, {pending:N0} pending, from {Format.Time(series[0].From)}.";
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg class="chart" viewBox="0 0 {Width} {Height}" role="img" aria-label="{Encode(summary)}">""");
        foreach (var fraction in new[] { 0.0, 0.5, 1.0 })
        {
            var y = 6 + (plot * (1 - fraction));
            svg.Append(CultureInfo.InvariantCulture, $"""<line class="grid" x1="{Left}" x2="{Width}" y1="{y:0.#}" y2="{y:0.#}"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text class="axis" x="{Left - 4}" y="{y + 3:0.#}" text-anchor="end">{Math.Round(max * fraction):N0}</text>""");
        }

        for (var i = 0; i < series.Count; i++)
        {
            var b = series[i];
            var x = Left + (slot * i) + ((slot - bar) / 2);
            var top = 6.0 + plot;
            foreach (var (count, css) in new[] { (b.Succeeded, "ok"), (b.Failed, "bad"), (b.Pending, "pending") })
            {
                if (count == 0)
                {
                    continue;
                }

                var h = plot * count / (double)max;
                top -= h;
                svg.Append(CultureInfo.InvariantCulture,
                    $"""<rect class="{css}" x="{x:0.#}" y="{top:0.#}" width="{bar:0.#}" height="{h:0.#}"><title>{Encode($"{Format.Time(b.From)}: {count:N0} {Name(css)}")}</title></rect>""");
            }

            if (i % 6 == 0)
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"""<text class="axis" x="{x:0.#}" y="{Height - 6}">{b.From.UtcDateTime.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture)}</text>""");
            }
        }

        svg.Append("</svg>");
        svg.Append("""<p class="legend" aria-hidden="true"><span class="ok">Succeeded</span><span class="bad">Failed</span><span class="pending">Pending</span></p>""");
        svg.Append("<details><summary>Show as a table</summary><div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"")
            .Append(Encode(title)).Append("\"><table><thead><tr><th scope=\"col\">From (UTC)</th><th scope=\"col\" class=\"num\">Succeeded</th>")
            .Append("<th scope=\"col\" class=\"num\">Failed</th><th scope=\"col\" class=\"num\">Pending</th></tr></thead><tbody>");
        foreach (var b in series)
        {
            svg.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{Format.Time(b.From)}</td><td class=\"num\">{b.Succeeded:N0}</td><td class=\"num\">{b.Failed:N0}</td><td class=\"num\">{b.Pending:N0}</td></tr>");
        }

        svg.Append("</tbody></table></div></details>");
        return new HtmlString(svg.ToString());
    }

    private static string Name(string css) => css switch { "ok" => "succeeded", "bad" => "failed", _ => "pending" };

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
