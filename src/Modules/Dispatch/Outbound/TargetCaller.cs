using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Rendering;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.Dispatch.Outbound;

/// <summary>What one call to a target came to.</summary>
/// <param name="StatusCode">The HTTP status, when the target answered.</param>
/// <param name="DurationMs">From sending to the end of the (capped) answer.</param>
/// <param name="ResponseExcerpt">The first 4 KiB of the answer's body, as text.</param>
/// <param name="PlainText">The body, when the answer was <c>text/plain</c> (UTF-8): the message Hornbill shows users.</param>
/// <param name="Error">What went wrong when there was no answer: timeout, refused, SSRF guard...</param>
/// <param name="RetryAfter">The target's Retry-After, when it sent one.</param>
/// <param name="RequestHeaders">The headers sent, Authorization redacted.</param>
/// <param name="Permanent">The call was refused before anything was sent, for a reason no retry changes (the address
/// guard, a KeySafe key bound to other origins): an async delivery fails at once instead of retrying.</param>
public sealed record CallOutcome(
    int? StatusCode, long DurationMs, string? ResponseExcerpt, string? PlainText, string? Error, TimeSpan? RetryAfter,
    IReadOnlyDictionary<string, string> RequestHeaders, bool Permanent = false)
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

/// <summary>A KeySafe key bound to other origins than the webhook's URL: nothing is sent.</summary>
public sealed class KeyNotAllowedException(string message) : Exception(message);

/// <summary>Makes one signed, authenticated POST to a webhook's target and reads at most 4 KiB of the answer.</summary>
public sealed class TargetCaller(OutboundHttp http, SecretCache secrets, OAuthTokens tokens, TimeProvider time)
{
    public const int ExcerptBytes = 4096;
    public const string Redacted = "[redacted]";

    /// <summary>Shorter secrets are not cut out of an answer (that would garble it); an answer holding one is withheld.</summary>
    public const int ShortestScrubbedSecret = 4;

    /// <summary>Read beyond the excerpt when a credential was sent: more than its longest escaped form (the Basic value, 1,708 characters, × 6).</summary>
    public const int ScrubbingSlackBytes = 12 * 1024;

    public async Task<CallOutcome> Post(WebhookDefinition webhook, Guid deliveryId, byte[] body, TimeSpan timeout, CancellationToken cancellation)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var sent = new List<string>();
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            var credential = webhook.AuthenticationKeyId is { } keyId
                ? await Usable(keyId, new Uri(webhook.Url), "the webhook's KeySafe key", deadline.Token)
                : null;
            var client = http.For(credential?.KeyId ?? Guid.Empty, credential?.ClientCertificate);
            var (response, token) = await Send(client, webhook, credential, null, deliveryId, body, headers, sent, deadline.Token);
            if (response.StatusCode == HttpStatusCode.Unauthorized && token is { } rejected)
            {
                // The token may have been revoked before its time: a fresh one, once.
                response.Dispose();
                (response, _) = await Send(client, webhook, credential, rejected, deliveryId, body, headers, sent, deadline.Token);
            }

            using (response)
            {
                var (excerpt, plain) = await Read(response, sent, deadline.Token);
                return new CallOutcome((int)response.StatusCode, Elapsed(started), excerpt, plain, null, RetryAfter(response), headers);
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return Failure(started, $"no answer within {timeout.TotalSeconds:0.###} s (timeout)", headers);
        }
        catch (HttpRequestException failed) when (SsrfRefusedException.In(failed) is { } refused)
        {
            // Thrown by the connect seam, so the handler wraps it; refused before any socket: retrying changes nothing.
            return Failure(started, refused.Message, headers, permanent: true);
        }
        catch (KeyNotAllowedException refused)
        {
            return Failure(started, refused.Message, headers, permanent: true);
        }
        catch (OAuthTokenException failed)
        {
            return Failure(started, failed.Message, headers, permanent: failed.Permanent);
        }
        catch (HttpRequestException failed)
        {
            return Failure(started, Scrub($"{failed.HttpRequestError}: {failed.Message}", sent)!, headers);
        }
        catch (IOException failed)
        {
            return Failure(started, Scrub(failed.Message, sent)!, headers);
        }
    }

    /// <summary>
    /// A target's answer must not hand back the credential the call used (an echoing target, a request bin): every
    /// form it may travel back in (raw, the Basic header's base64, URL-encoded, JSON-escaped, any case of hex escapes)
    /// is cut out of what is stored and shown.
    /// </summary>
    public static string? Scrub(string? text, IReadOnlyList<string> secrets)
    {
        if (text is null || secrets.Count == 0)
        {
            return text;
        }

        foreach (var secret in Forms(secrets))
        {
            if (!text.Contains(secret, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (secret.Length < ShortestScrubbedSecret)
            {
                return Withheld;
            }

            text = text.Replace(secret, Redacted, StringComparison.OrdinalIgnoreCase);
        }

        return text;
    }

    /// <summary>
    /// Scrubs, then cuts to the excerpt's size: the text is read beyond the size so that a secret across the cut is seen
    /// whole; a secret's beginning at the very end of the cut text is dropped too (the answer may have stopped in it).
    /// </summary>
    public static string Excerpt(string text, IReadOnlyList<string> secrets, int maxBytes)
    {
        var scrubbed = Scrub(text, secrets)!;
        var bytes = Encoding.UTF8.GetBytes(scrubbed);
        var cut = bytes.Length <= maxBytes ? scrubbed : StoredText.FromUtf8Prefix(bytes.AsSpan(0, maxBytes));
        foreach (var secret in Forms(secrets).Where(s => s.Length >= ShortestScrubbedSecret))
        {
            for (var length = Math.Min(secret.Length - 1, cut.Length); length >= ShortestScrubbedSecret; length--)
            {
                if (cut.EndsWith(secret[..length], StringComparison.OrdinalIgnoreCase))
                {
                    cut = cut[..^length] + Redacted;
                    break;
                }
            }
        }

        return cut;
    }

    public const string Withheld = "[withheld: the answer may contain the credential the call used]";

    /// <summary>Each secret as sent and as an echo may write it back; longest first, so a longer form is cut whole.</summary>
    private static IEnumerable<string> Forms(IReadOnlyList<string> secrets) => secrets
        .Where(s => s.Length > 0)
        .SelectMany(s => new[]
        {
            s, Uri.EscapeDataString(s), WebUtility.UrlEncode(s), JsonEncodedText.Encode(s).ToString(),
            JsonEncodedText.Encode(s).ToString().Replace("/", "\\/", StringComparison.Ordinal), s.Replace("/", "\\/", StringComparison.Ordinal),
        })
        .Distinct(StringComparer.OrdinalIgnoreCase)
        .OrderByDescending(s => s.Length);

    /// <summary>A KeySafe key's credential, if the key is there, and only if it may be sent to <paramref name="url"/>.</summary>
    private async Task<Credential?> Usable(Guid keyId, Uri url, string what, CancellationToken cancellation)
    {
        var credential = await secrets.Credential(keyId, cancellation);
        if (!credential.Found)
        {
            return null;
        }

        if (!Origins.Allow(credential.AllowedOrigins, url))
        {
            throw new KeyNotAllowedException(
                $"Not sent: {what} may be sent only to {string.Join(", ", credential.AllowedOrigins!)}, " +
                $"and the webhook's URL is on {Origins.Of(url)}. Allow the origin on the key, or give the webhook another key.");
        }

        return credential;
    }

    private sealed record Built(HttpRequestMessage Message, string? Token);

    /// <summary>Builds and sends one request (disposed once its answer's headers are in, or it failed); the answer and the OAuth token used.</summary>
    private async Task<(HttpResponseMessage Response, string? Token)> Send(
        HttpClient client, WebhookDefinition webhook, Credential? credential, string? rejectedToken, Guid deliveryId, byte[] body,
        Dictionary<string, string> recorded, List<string> sent, CancellationToken cancellation)
    {
        var built = await Build(webhook, credential, rejectedToken, deliveryId, body, recorded, sent, cancellation);
        using (built.Message)
        {
            return (await client.SendAsync(built.Message, HttpCompletionOption.ResponseHeadersRead, cancellation), built.Token);
        }
    }

    private async Task<Built> Build(
        WebhookDefinition webhook, Credential? credential, string? rejectedToken, Guid deliveryId, byte[] body,
        Dictionary<string, string> recorded, List<string> sent, CancellationToken cancellation)
    {
        var id = deliveryId.ToString();
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var signing = await secrets.SigningSecrets(webhook.Id, cancellation);
        var signature = Signing.Header(
            signing.Previous is null ? [signing.Current] : [signing.Current, signing.Previous], id, timestamp, body);

        // Fetched before the request exists, so that a failure leaves nothing to dispose.
        var token = credential?.Type == KeyTypes.OAuth2ClientCredentials ? await tokens.Token(credential, rejectedToken, cancellation) : null;
        var custom = await CustomHeaders(webhook, recorded, sent, cancellation);
        var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url)
        {
            Content = new ByteArrayContent(body),
            Version = HttpVersion.Version11,
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(Payload.ContentTypeFor(webhook.PayloadFormat));
        foreach (var (name, value) in custom)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                // Only a header .NET keeps with the content gets here, and the rules refuse those: never recorded as sent.
                recorded.Remove(name);
            }
        }

        request.Headers.TryAddWithoutValidation("webhook-id", id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", signature);
        if (credential is not null)
        {
            Authenticate(request, credential, token, recorded, sent);
        }

        recorded["Content-Type"] = request.Content.Headers.ContentType!.ToString();
        recorded["User-Agent"] = OutboundHttp.UserAgent;
        recorded["webhook-id"] = id;
        recorded["webhook-timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        recorded["webhook-signature"] = signature;
        return new Built(request, token);
    }

    /// <summary>The webhook's custom headers: literal values as they are, KeySafe-held ones opened now and redacted in the record.</summary>
    private static readonly IReadOnlyList<(string Name, string Value)> NoHeaders = [];

    private async Task<IReadOnlyList<(string Name, string Value)>> CustomHeaders(
        WebhookDefinition webhook, Dictionary<string, string> recorded, List<string> sent, CancellationToken cancellation)
    {
        if (webhook.Headers is not { Count: > 0 } custom)
        {
            return NoHeaders; // the common case, on every call: nothing to allocate
        }

        var headers = new List<(string, string)>(custom.Count);
        foreach (var (name, value) in custom)
        {
            if (value.KeySafeKeyId is { } keyId)
            {
                if ((await Usable(keyId, new Uri(webhook.Url), $"the KeySafe key of header {name}", cancellation))?.HeaderValue is { } secret)
                {
                    headers.Add((name, secret));
                    recorded[name] = Redacted;
                    sent.Add(secret);
                }
            }
            else if (value.Text is { } text)
            {
                headers.Add((name, text));
                // A credential written before the rules refused literal ones is still never recorded.
                recorded[name] = OutboundHeaders.Credential(name) ? Redacted : text;
            }
        }

        return headers;
    }

    /// <summary>Sets what the key's type sends (the certificate of an mtls key is the client's, not a header), and notes its secrets for scrubbing.</summary>
    private static void Authenticate(HttpRequestMessage request, Credential credential, string? token, Dictionary<string, string> recorded, List<string> sent)
    {
        switch (credential.Type)
        {
            case KeyTypes.HttpBasic:
                var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}"));
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                recorded["Authorization"] = "Basic [redacted]";
                sent.AddRange([credential.Password!, basic]);
                break;
            case KeyTypes.Bearer:
                request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {credential.Token}");
                recorded["Authorization"] = "Bearer [redacted]";
                sent.Add(credential.Token!);
                break;
            case KeyTypes.OAuth2ClientCredentials:
                request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
                recorded["Authorization"] = "Bearer [redacted]";
                sent.AddRange([token!, credential.ClientSecret!]);
                break;
            case KeyTypes.ApiKeyHeader:
                request.Headers.Remove(credential.HeaderName!);
                request.Headers.TryAddWithoutValidation(credential.HeaderName!, credential.Value);
                recorded[credential.HeaderName!] = Redacted;
                sent.Add(credential.Value!);
                break;
        }
    }

    /// <summary>
    /// The first 4 KiB of the answer, as text a person can read and the database can store whatever bytes came (NUL,
    /// invalid UTF-8, a binary body: a target's answer is untrusted input); and the <c>text/plain</c> message, if any.
    /// </summary>
    private static async Task<(string? Excerpt, string? PlainText)> Read(
        HttpResponseMessage response, List<string> secrets, CancellationToken cancellation)
    {
        // With a credential sent, read further than the excerpt, so that one across the cut is scrubbed whole.
        var (buffer, read) = await ReadPrefix(response, ExcerptBytes + (secrets.Count > 0 ? ScrubbingSlackBytes : 0), cancellation);

        if (read == 0)
        {
            return (null, null);
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!IsText(mediaType))
        {
            return ($"[{(read >= ExcerptBytes ? "at least " + ExcerptBytes : read.ToString(System.Globalization.CultureInfo.InvariantCulture))} bytes of {mediaType}: not text, not shown]", null);
        }

        var text = Excerpt(StoredText.FromUtf8Prefix(buffer.AsSpan(0, read)), secrets, ExcerptBytes);
        var plain = string.Equals(mediaType, "text/plain", StringComparison.OrdinalIgnoreCase) ? text.Trim() : null;
        return (text, plain);
    }

    /// <summary>At most <paramref name="max"/> bytes of an answer's body (the rest is never read): the bytes, and how many came.</summary>
    internal static async Task<(byte[] Buffer, int Read)> ReadPrefix(HttpResponseMessage response, int max, CancellationToken cancellation)
    {
        var buffer = new byte[max];
        var read = 0;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellation)) > 0)
        {
            read += n;
        }

        return (buffer, read);
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

    private static CallOutcome Failure(long started, string error, Dictionary<string, string> headers, bool permanent = false) =>
        new(null, Elapsed(started), null, null, StoredText.Clean(error), null, headers, permanent);

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}
