using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Webhooks.BuildingBlocks;

namespace Webhooks.Host.Api;

/// <summary>
/// Refuses, with a 400 naming the field, input that PostgreSQL cannot store: a NUL character or an unpaired surrogate
/// in the path, in a query value or in any string (or property name) of a JSON body, and a JSON body that is
/// <c>null</c>. Such text must never reach PostgreSQL: besides failing the write, a parameter refused while a statement
/// is being auto-prepared leaves Npgsql 10.0.3's connection out of step with the server, and the next request on that
/// pooled connection fails ("Received unexpected backend message DataRow"; issue 11).
/// </summary>
/// <remarks>
/// Cheap on the hot path: JSON can only carry such characters as escapes (<c>\u0000</c>, <c>\uD800</c> to
/// <c>\uDFFF</c>), so a body without one is passed on after a vectorised search; only a body with one is parsed to
/// find the field. The capture side of request bins takes any bytes and stores them faithfully, so it is left alone.
/// </remarks>
public static partial class StorableInput
{
    public static IApplicationBuilder UseStorableInput(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!BinCapture().IsMatch(context.Request.Path.Value ?? "")
            && (Refusal(context.Request) ?? await BodyRefusal(context.Request)) is { } problem)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = problem,
            });
            return;
        }

        await next(context);
    });

    private static ProblemDetails? Refusal(HttpRequest request)
    {
        var errors = new FieldErrors();
        if (!StoredText.IsStorable(request.Path.Value))
        {
            errors.Add("path", $"The path {StoredText.NotStorable}.");
        }

        foreach (var (name, values) in request.Query)
        {
            if (!StoredText.IsStorable(name) || values.Any(v => !StoredText.IsStorable(v)))
            {
                errors.Add(StoredText.Clean(name), $"The query parameter '{StoredText.Clean(name)}' {StoredText.NotStorable}.");
            }
        }

        return errors.IsEmpty ? null : errors.ToProblem();
    }

    private static async Task<ProblemDetails?> BodyRefusal(HttpRequest request)
    {
        // Wolverine reads a body without a Content-Type as JSON too.
        if (!(IsJson(request) || (request.ContentType is null && HttpMethods.IsPost(request.Method) | HttpMethods.IsPut(request.Method)
                | HttpMethods.IsPatch(request.Method))) || request.ContentLength == 0)
        {
            return null;
        }

        // Read whole (the body size limits still apply while reading), then hand the endpoint the same bytes.
        var body = new MemoryStream(request.ContentLength is > 0 and < 1 << 20 ? (int)request.ContentLength : 1024);
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        body.Position = 0;
        request.Body = body;
        var bytes = body.GetBuffer().AsSpan(0, (int)body.Length);
        return IsNullDocument(bytes)
            ? new FieldErrors().Add("body", "The request body is null; send a JSON object.").ToProblem()
            : StoredJson.MayHoldUnstorable(bytes) ? Unstorable(bytes) : null;
    }

    /// <summary>Each string and property name with an escape is checked; the errors name their JSON paths.</summary>
    private static ProblemDetails? Unstorable(ReadOnlySpan<byte> json)
    {
        var errors = new FieldErrors();
        var frames = new List<Frame>();
        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        frames.Add(new Frame(reader.TokenType == JsonTokenType.StartArray));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        frames.RemoveAt(frames.Count - 1);
                        Next(frames);
                        break;
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString()!;
                        frames[^1].Property = name;
                        if (reader.ValueIsEscaped && !StoredText.IsStorable(name))
                        {
                            errors.Add(PathOf(frames), $"This property name {StoredText.NotStorable}.");
                        }

                        break;
                    case JsonTokenType.String:
                        if (reader.ValueIsEscaped && !StoredText.IsStorable(reader.GetString()))
                        {
                            errors.Add(PathOf(frames), $"The value {StoredText.NotStorable}.");
                        }

                        Next(frames);
                        break;
                    default:
                        Next(frames);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed: the endpoint's own reading answers that with its 400.
            return errors.IsEmpty ? null : errors.ToProblem();
        }
        catch (InvalidOperationException)
        {
            // An escaped unpaired surrogate that GetString refuses to decode: it cannot be stored either.
            errors.Add(PathOf(frames), $"The value {StoredText.NotStorable}.");
        }

        return errors.IsEmpty ? null : errors.ToProblem();
    }

    /// <summary>A value ended: the array moves to its next index, the object leaves its property.</summary>
    private static void Next(List<Frame> frames)
    {
        if (frames.Count == 0)
        {
            return;
        }

        if (frames[^1].IsArray)
        {
            frames[^1].Index++;
        }
        else
        {
            frames[^1].Property = null;
        }
    }

    /// <summary>The field as the errors map names it, e.g. <c>record.items[2].name</c>.</summary>
    private static string PathOf(List<Frame> frames)
    {
        var path = new StringBuilder();
        foreach (var frame in frames)
        {
            if (frame.IsArray)
            {
                path.Append('[').Append(frame.Index).Append(']');
            }
            else if (frame.Property is { } property)
            {
                path.Append(path.Length == 0 ? "" : ".").Append(StoredText.Clean(property));
            }
        }

        return path.Length == 0 ? "body" : path.ToString();
    }

    private static bool IsNullDocument(ReadOnlySpan<byte> json) => json.Trim(" \t\r\n"u8).SequenceEqual("null"u8);

    [GeneratedRegex("^/bins/[0-9a-fA-F-]{36}/capture$")]
    private static partial Regex BinCapture();

    private sealed class Frame(bool isArray)
    {
        public bool IsArray { get; } = isArray;

        public int Index { get; set; }

        public string? Property { get; set; }
    }

    private static bool IsJson(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true);
}
