using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Rendering;

namespace Webhooks.Dispatch.Outbound;

/// <summary>What one call to a target came to.</summary>
/// <param name="StatusCode">The HTTP status, when the target answered.</param>
/// <param name="DurationMs">From sending to the end of the (capped) answer.</param>
/// <param name="ResponseExcerpt">The first 4 KiB of the answer's body, as text.</param>
/// <param name="PlainText">The body, when the answer was <c>text/plain</c> (UTF-8): the message Hornbill shows users.</param>
/// <param name="Error">What went wrong when there was no answer: timeout, refused, SSRF guard...</param>
/// <param name="RetryAfter">The target's Retry-After, when it sent one.</param>
/// <param name="RequestHeaders">The headers sent, Authorization redacted.</param>
public sealed record CallOutcome(
    int? StatusCode, long DurationMs, string? ResponseExcerpt, string? PlainText, string? Error, TimeSpan? RetryAfter,
    IReadOnlyDictionary<string, string> RequestHeaders)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;

    /// <summary>What to tell a publisher: the target's text/plain message, else the status or the error.</summary>
    public string Describe(string webhook) =>
        PlainText is { Length: > 0 } text ? text
        : StatusCode is { } status ? $"The webhook '{webhook}' answered {status} {ReasonPhrase(status)}."
        : $"The webhook '{webhook}' could not be called: {Error}";

    private static string ReasonPhrase(int status) =>
        Enum.IsDefined(typeof(HttpStatusCode), status) ? ((HttpStatusCode)status).ToString() : "";
}

/// <summary>Makes one signed, authenticated POST to a webhook's target and reads at most 4 KiB of the answer.</summary>
public sealed class TargetCaller(OutboundHttp http, SecretCache secrets, TimeProvider time)
{
    public const int ExcerptBytes = 4096;

    public async Task<CallOutcome> Post(WebhookDefinition webhook, Guid deliveryId, byte[] body, TimeSpan timeout, CancellationToken cancellation)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            using var request = await Build(webhook, deliveryId, body, headers, deadline.Token);
            using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var (excerpt, plain) = await Read(response, deadline.Token);
            return new CallOutcome(
                (int)response.StatusCode, Elapsed(started), excerpt, plain, null, RetryAfter(response), headers);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return Failure(started, $"no answer within {timeout.TotalSeconds:0.###} s (timeout)", headers);
        }
        catch (SsrfRefusedException refused)
        {
            return Failure(started, refused.Message, headers);
        }
        catch (HttpRequestException failed)
        {
            return Failure(started, $"{failed.HttpRequestError}: {failed.Message}", headers);
        }
        catch (IOException failed)
        {
            return Failure(started, failed.Message, headers);
        }
    }

    private async Task<HttpRequestMessage> Build(
        WebhookDefinition webhook, Guid deliveryId, byte[] body, Dictionary<string, string> recorded, CancellationToken cancellation)
    {
        var id = deliveryId.ToString();
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var signing = await secrets.SigningSecrets(webhook.Id, cancellation);
        var signature = Signing.Header(
            signing.Previous is null ? [signing.Current] : [signing.Current, signing.Previous], id, timestamp, body);

        var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url)
        {
            Content = new ByteArrayContent(body),
            Version = HttpVersion.Version11,
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(Payload.ContentTypeFor(webhook.PayloadFormat));
        request.Headers.TryAddWithoutValidation("webhook-id", id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", signature);
        if (webhook.KeySafeKeyId is { } keyId)
        {
            var credential = await secrets.Credential(keyId, cancellation);
            if (credential.Found)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue(
                    "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
                recorded["Authorization"] = "Basic [redacted]";
            }
        }

        recorded["Content-Type"] = request.Content.Headers.ContentType!.ToString();
        recorded["User-Agent"] = OutboundHttp.UserAgent;
        recorded["webhook-id"] = id;
        recorded["webhook-timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        recorded["webhook-signature"] = signature;
        return request;
    }

    /// <summary>
    /// The first 4 KiB of the answer, as text a person can read and the database can store whatever bytes came (NUL,
    /// invalid UTF-8, a binary body: a target's answer is untrusted input); and the <c>text/plain</c> message, if any.
    /// </summary>
    private static async Task<(string? Excerpt, string? PlainText)> Read(HttpResponseMessage response, CancellationToken cancellation)
    {
        var buffer = new byte[ExcerptBytes];
        var read = 0;
        await using (var stream = await response.Content.ReadAsStreamAsync(cancellation))
        {
            int n;
            while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellation)) > 0)
            {
                read += n;
            }
        }

        if (read == 0)
        {
            return (null, null);
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!IsText(mediaType))
        {
            return ($"[{(read == buffer.Length ? "at least " : "")}{read} bytes of {mediaType}: not text, not shown]", null);
        }

        var text = StoredText.FromUtf8Prefix(buffer.AsSpan(0, read));
        var plain = string.Equals(mediaType, "text/plain", StringComparison.OrdinalIgnoreCase) ? text.Trim() : null;
        return (text, plain);
    }

    /// <summary>Text types (and no type at all, as many receivers send) are shown; anything else is described.</summary>
    private static bool IsText(string? mediaType) =>
        mediaType is null
        || mediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("/xml", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+xml", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("application/javascript", StringComparison.OrdinalIgnoreCase);

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow(),
        _ => null,
    };

    private static CallOutcome Failure(long started, string error, Dictionary<string, string> headers) =>
        new(null, Elapsed(started), null, null, StoredText.Clean(error), null, headers);

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}
