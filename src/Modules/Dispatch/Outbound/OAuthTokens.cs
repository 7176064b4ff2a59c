using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Webhooks.BuildingBlocks;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.Dispatch.Outbound;

/// <summary>No access token could be had from an oauth2ClientCredentials key's token endpoint: the call is not made.</summary>
public sealed class OAuthTokenException(string message, bool permanent = false, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Refused before anything was sent (the address guard): retrying changes nothing until the key does.</summary>
    public bool Permanent { get; } = permanent;
}

/// <summary>
/// Access tokens of oauth2ClientCredentials keys (RFC 6749 4.4), fetched from the key's token endpoint with the client
/// authenticated by HTTP Basic (client_secret_basic, the method every server must support), and kept in memory until
/// shortly before they expire: a tenth of their lifetime, at most a minute, before. One fetch at a time per key: calls
/// that need a token while it is being fetched wait for it. A target's 401 makes the caller ask for a fresh one, once.
/// Tokens are secrets: never logged, stored or shown (the caller scrubs them from what targets answer).
/// </summary>
public sealed class OAuthTokens(OutboundHttp http, TimeProvider time)
{
    /// <summary>A token endpoint that says nothing of its tokens' lifetime: this long.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(5);

    public const int MaxAnswerBytes = 64 * 1024;

    private readonly ConcurrentDictionary<Guid, Entry> tokens = new();
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> fetching = new();

    /// <summary>
    /// A token for <paramref name="credential"/>: the cached one while it is fresh, unless it is <paramref name="rejected"/>
    /// (a target just refused it), in which case a new one is fetched (or the one another call fetched meanwhile used).
    /// </summary>
    public async Task<string> Token(Credential credential, string? rejected, CancellationToken cancellation)
    {
        if (Fresh(credential, rejected) is { } cached)
        {
            return cached;
        }

        var gate = fetching.GetOrAdd(credential.KeyId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellation);
        try
        {
            if (Fresh(credential, rejected) is { } fetchedMeanwhile)
            {
                return fetchedMeanwhile;
            }

            var (token, lifetime) = await Fetch(credential, cancellation);
            var margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, lifetime.Ticks / 10));
            tokens[credential.KeyId] = new Entry(token, time.GetUtcNow() + lifetime - margin, Fingerprint(credential));
            return token;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The key changed or went: its token goes too.</summary>
    public void Forget(Guid keyId) => tokens.TryRemove(keyId, out _);

    private string? Fresh(Credential credential, string? rejected) =>
        tokens.TryGetValue(credential.KeyId, out var entry) && entry.Until > time.GetUtcNow() && entry.Token != rejected
        && entry.Fingerprint == Fingerprint(credential)
            ? entry.Token
            : null;

    /// <summary>What the token was fetched with (another node may see a rotation later than this one's cache does).</summary>
    private static string Fingerprint(Credential c) => string.Join('\n', c.TokenUrl, c.ClientId, c.ClientSecret, c.Scope);

    private async Task<(string Token, TimeSpan Lifetime)> Fetch(Credential credential, CancellationToken cancellation)
    {
        var endpoint = credential.TokenUrl!;
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (credential.Scope is { Length: > 0 } scope)
        {
            form.Add(new("scope", scope));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
        // RFC 6749 2.3.1: client id and secret form-url-encoded, then Basic.
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{Uri.EscapeDataString(credential.ClientId!)}:{Uri.EscapeDataString(credential.ClientSecret!)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        string text;
        int status;
        try
        {
            using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
            status = (int)response.StatusCode;
            text = await Read(response, cancellation);
        }
        catch (HttpRequestException failed) when (SsrfRefusedException.In(failed) is { } refused)
        {
            throw new OAuthTokenException($"Not sent: no OAuth token, the token endpoint {endpoint} is refused: {refused.Message}", permanent: true, failed);
        }
        catch (HttpRequestException failed)
        {
            throw new OAuthTokenException(
                $"Not sent: no OAuth token, the token endpoint {endpoint} could not be reached ({failed.HttpRequestError}).", inner: failed);
        }

        var secrets = new[] { credential.ClientSecret!, basic };
        if (status is < 200 or > 299)
        {
            throw new OAuthTokenException(
                $"Not sent: no OAuth token, the token endpoint {endpoint} answered {status}{Described(text, secrets)}.");
        }

        try
        {
            using var answer = JsonDocument.Parse(text);
            var root = answer.RootElement;
            var token = root.TryGetProperty("access_token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var type = root.TryGetProperty("token_type", out var tt) && tt.ValueKind == JsonValueKind.String ? tt.GetString() : "Bearer";
            if (token is null || OutboundHeaders.ValueProblem(token) is not null || token.Contains(' ', StringComparison.Ordinal))
            {
                throw new OAuthTokenException($"Not sent: the token endpoint {endpoint} answered no usable access_token.");
            }

            if (!string.Equals(type, "Bearer", StringComparison.OrdinalIgnoreCase))
            {
                throw new OAuthTokenException($"Not sent: the token endpoint {endpoint} issued a token of type '{StoredText.Clean(type ?? "")}'; only Bearer tokens are supported.");
            }

            var lifetime = root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var seconds) && seconds > 0
                ? TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.FromDays(1).TotalSeconds))
                : DefaultLifetime;
            return (token, lifetime);
        }
        catch (JsonException)
        {
            throw new OAuthTokenException($"Not sent: the token endpoint {endpoint} answered something that is not a JSON token response.");
        }
    }

    /// <summary>The RFC 6749 5.2 error and its description, when the endpoint sent them, scrubbed of the client's secrets.</summary>
    private static string Described(string text, IReadOnlyList<string> secrets)
    {
        try
        {
            using var answer = JsonDocument.Parse(text);
            var error = answer.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
            var description = answer.RootElement.TryGetProperty("error_description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            var said = string.Join(": ", new[] { error, description }.OfType<string>());
            // Scrubbed whole, then cut: a secret across the cut would leave its beginning otherwise.
            var scrubbed = TargetCaller.Scrub(StoredText.Clean(said), secrets)!;
            return said.Length == 0 ? "" : $" ({(scrubbed.Length > 300 ? scrubbed[..300] + "..." : scrubbed)})";
        }
        catch (JsonException)
        {
            return "";
        }
    }

    private static async Task<string> Read(HttpResponseMessage response, CancellationToken cancellation)
    {
        var (buffer, read) = await TargetCaller.ReadPrefix(response, MaxAnswerBytes, cancellation);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private sealed record Entry(string Token, DateTimeOffset Until, string Fingerprint);
}
