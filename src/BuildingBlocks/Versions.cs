using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Webhooks.BuildingBlocks;

/// <summary>Optimistic concurrency over HTTP: <c>ETag: "&lt;version&gt;"</c> out, <c>If-Match: "&lt;version&gt;"</c> in.</summary>
public static class Versions
{
    public static string ETag(long version) => $"\"{version.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>Reads If-Match: absent is fine (no precondition); anything but one version, quoted or not, is not.</summary>
    public static bool TryParseIfMatch(string? header, out long? version)
    {
        version = null;
        if (string.IsNullOrWhiteSpace(header))
        {
            return true;
        }

        var text = header.Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        text = text.Trim('"');
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            version = parsed;
            return true;
        }

        return false;
    }

    public static ProblemDetails ValidateIfMatch(string? header) => new FieldErrors()
        .Check(TryParseIfMatch(header, out _), "If-Match", "If-Match must be one version as the ETag gave it, e.g. \"3\".")
        .ToProblem();

    /// <summary>412 when the client's version is not the current one.</summary>
    public static ProblemDetails? Stale(string? ifMatch, long current, string what)
    {
        return TryParseIfMatch(ifMatch, out var expected) && expected is { } version && version != current
            ? Problems.PreconditionFailed($"{what} is at version {current}, not {version}: someone changed it since you read it. Read it again, then retry.")
            : null;
    }

    /// <summary>Sets the ETag of the answer.</summary>
    public static void Tag(HttpResponse response, long version) => response.Headers.ETag = ETag(version);
}
