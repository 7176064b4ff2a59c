using Microsoft.Extensions.Caching.Memory;
using Webhooks.KeySafe.Contracts;
using Wolverine;

namespace Webhooks.Dispatch.Outbound;

/// <summary>
/// Credentials and signing secrets asked of KeySafe (in-process, through Contracts) and kept in memory briefly (the
/// host's <see cref="IMemoryCache"/>). A rotation or removal on this node drops them at once; other nodes see it within
/// the cache lifetime, or at once for signing secrets, since a rotation bumps the webhook's version, which every node's
/// catalog follows. A previous signing secret is never kept past its end of validity.
/// </summary>
public sealed class SecretCache(Wolverine.Runtime.IWolverineRuntime runtime, IMemoryCache cache, TimeProvider time, DispatchOptions options)
{
    public async ValueTask<Credential> Credential(Guid keyId, CancellationToken cancellation) =>
        await cache.GetOrCreateAsync((nameof(Credential), keyId), async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = options.SecretCacheLifetime;
            return await new Wolverine.Runtime.MessageBus(runtime).InvokeAsync<Credential>(new ResolveCredential(keyId), cancellation);
        }) ?? throw new InvalidOperationException($"KeySafe answered nothing for key {keyId}.");

    public async ValueTask<SigningSecrets> SigningSecrets(Guid webhookId, CancellationToken cancellation) =>
        await cache.GetOrCreateAsync((nameof(SigningSecrets), webhookId), async entry =>
        {
            var secrets = await new Wolverine.Runtime.MessageBus(runtime).InvokeAsync<SigningSecrets>(
                new Definitions.Contracts.ResolveWebhookSigningSecrets(webhookId), cancellation);
            var lifetime = options.SecretCacheLifetime;
            if (secrets.PreviousValidUntil is { } previousUntil && previousUntil - time.GetUtcNow() < lifetime)
            {
                lifetime = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (previousUntil - time.GetUtcNow()).Ticks));
            }

            entry.AbsoluteExpirationRelativeToNow = lifetime;
            return secrets;
        }) ?? throw new InvalidOperationException($"Definitions answered no signing secrets for webhook {webhookId}.");

    public void ForgetCredential(Guid keyId) => cache.Remove((nameof(Credential), keyId));

    public void ForgetSigningSecrets(Guid webhookId) => cache.Remove((nameof(SigningSecrets), webhookId));
}

/// <summary>KeySafe's notifications: drop what this node holds of a changed or removed key (credential, OAuth token, mTLS client).</summary>
public static class KeyChangeHandler
{
    public static void Handle(KeySecretChanged changed, SecretCache cache, OAuthTokens tokens, OutboundHttp http) =>
        Forget(changed.KeyId, cache, tokens, http);

    public static void Handle(KeyRemoved removed, SecretCache cache, OAuthTokens tokens, OutboundHttp http) =>
        Forget(removed.KeyId, cache, tokens, http);

    public static void Handle(KeyBindingChanged changed, SecretCache cache) => cache.ForgetCredential(changed.KeyId);

    private static void Forget(Guid keyId, SecretCache cache, OAuthTokens tokens, OutboundHttp http)
    {
        cache.ForgetCredential(keyId);
        tokens.Forget(keyId);
        http.Forget(keyId);
    }
}
