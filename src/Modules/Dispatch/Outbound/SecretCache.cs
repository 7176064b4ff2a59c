using System.Collections.Concurrent;
using Webhooks.KeySafe.Contracts;
using Wolverine;

namespace Webhooks.Dispatch.Outbound;

/// <summary>
/// Credentials and signing secrets asked of KeySafe (in-process, through its Contracts) and kept in memory briefly.
/// A rotation or removal on this node drops them at once; other nodes see it within the cache lifetime, or at once
/// for signing secrets, since a rotation bumps the webhook's version, which every node's catalog follows.
/// </summary>
public sealed class SecretCache(Wolverine.Runtime.IWolverineRuntime runtime, TimeProvider time, DispatchOptions options)
{
    private readonly ConcurrentDictionary<Guid, (HttpBasicCredential Credential, DateTimeOffset Until)> credentials = new();
    private readonly ConcurrentDictionary<Guid, (SigningSecrets Secrets, DateTimeOffset Until)> signing = new();

    public async ValueTask<HttpBasicCredential> Credential(Guid keyId, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        if (credentials.TryGetValue(keyId, out var cached) && cached.Until > now)
        {
            return cached.Credential;
        }

        var credential = await new Wolverine.Runtime.MessageBus(runtime).InvokeAsync<HttpBasicCredential>(new ResolveHttpBasicCredential(keyId), cancellation);
        credentials[keyId] = (credential, now + options.SecretCacheLifetime);
        return credential;
    }

    public async ValueTask<SigningSecrets> SigningSecrets(Guid webhookId, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        if (signing.TryGetValue(webhookId, out var cached) && cached.Until > now)
        {
            return cached.Secrets;
        }

        var secrets = await new Wolverine.Runtime.MessageBus(runtime).InvokeAsync<SigningSecrets>(
            new Definitions.Contracts.ResolveWebhookSigningSecrets(webhookId), cancellation);
        var until = now + options.SecretCacheLifetime;
        if (secrets.PreviousValidUntil is { } previousUntil && previousUntil < until)
        {
            until = previousUntil;
        }

        signing[webhookId] = (secrets, until);
        return secrets;
    }

    public void ForgetCredential(Guid keyId) => credentials.TryRemove(keyId, out _);

    public void ForgetSigningSecrets(Guid webhookId) => signing.TryRemove(webhookId, out _);
}

/// <summary>KeySafe's notifications: drop what the cache holds of a changed or removed key.</summary>
public static class KeyChangeHandler
{
    public static void Handle(KeySecretChanged changed, SecretCache cache) => cache.ForgetCredential(changed.KeyId);

    public static void Handle(KeyRemoved removed, SecretCache cache) => cache.ForgetCredential(removed.KeyId);

    public static void Handle(KeyBindingChanged changed, SecretCache cache) => cache.ForgetCredential(changed.KeyId);
}
