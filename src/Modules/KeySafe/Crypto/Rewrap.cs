using JasperFx;
using JasperFx.CommandLine;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Contracts;
using Webhooks.KeySafe.Contracts;
using Webhooks.KeySafe.Keys;
using Wolverine.Http;

[assembly: JasperFxAssembly]

namespace Webhooks.KeySafe.Crypto;

/// <summary>
/// Re-encrypts every secret that is not yet under the active master key, so an old master key can be removed.
/// Each key is rewrapped in its own transaction holding its event stream's row lock, so a rotation of the same
/// key at the same moment waits and then wins, instead of being overwritten with the old secret.
/// </summary>
public sealed class SecretRewrapper(IDocumentStore store, SecretBox box)
{
    public async Task<RewrapResult> RewrapAll(Action<int, int>? progress, CancellationToken cancellation)
    {
        List<Guid> stale;
        int current;
        await using (var query = store.QuerySession())
        {
            var all = await query.Query<KeySecret>().Select(s => new { s.Id, s.Sealed.MasterKeyId }).ToListAsync(cancellation);
            stale = all.Where(s => s.MasterKeyId != box.ActiveMasterKeyId).Select(s => s.Id).ToList();
            current = all.Count - stale.Count;
        }

        var rewrapped = 0;
        foreach (var id in stale)
        {
            await using var session = store.LightweightSession();
            await session.Events.FetchForExclusiveWriting<Key>(id, cancellation);
            if (await session.LoadAsync<KeySecret>(id, cancellation) is { } secret && secret.Sealed.MasterKeyId != box.ActiveMasterKeyId)
            {
                var plaintext = box.Open(id, secret.Sealed);
                try
                {
                    secret.Sealed = box.Seal(id, plaintext);
                }
                finally
                {
                    System.Security.Cryptography.CryptographicOperations.ZeroMemory(plaintext);
                }

                session.Store(secret);
                rewrapped++;
            }

            await session.SaveChangesAsync(cancellation);
            progress?.Invoke(rewrapped, stale.Count);
        }

        // The signing root, sealed like the keys' secrets (every signing secret is derived from it).
        await using (var session = store.LightweightSession())
        {
            if (await session.LoadAsync<Signing.SigningRoot>(Signing.SigningRoot.RootId, cancellation) is { } root)
            {
                if (root.Sealed.MasterKeyId == box.ActiveMasterKeyId)
                {
                    current++;
                }
                else
                {
                    var plaintext = box.Open(root.Id, root.Sealed);
                    try
                    {
                        root.Sealed = box.Seal(root.Id, plaintext);
                    }
                    finally
                    {
                        System.Security.Cryptography.CryptographicOperations.ZeroMemory(plaintext);
                    }

                    session.Store(root);
                    await session.SaveChangesAsync(cancellation);
                    rewrapped++;
                }
            }
        }

        return new RewrapResult(box.ActiveMasterKeyId, rewrapped, current);
    }
}

public static class RewrapEndpoint
{
    /// <summary>Re-encrypts every secret with the active master key; afterwards older master keys can be removed.</summary>
    [WolverinePost("/keysafe/rewrap", OperationId = "RewrapSecrets")]
    [Authorize(Roles = Roles.KeySafe)]
    [Microsoft.AspNetCore.Http.Tags("KeySafe")]
    public static Task<RewrapResult> Post(SecretRewrapper rewrapper, CancellationToken cancellation) =>
        rewrapper.RewrapAll(progress: null, cancellation);
}

public sealed class KeySafeInput : NetCoreInput
{
    [Description("What to do: 'rewrap' re-encrypts every secret with the active master key")]
    public string Action { get; set; } = "rewrap";
}

[Description("KeySafe maintenance: 'keysafe rewrap' re-encrypts every secret with the active master key", Name = "keysafe")]
public sealed class KeySafeCommand : JasperFxAsyncCommand<KeySafeInput>
{
    public override async Task<bool> Execute(KeySafeInput input)
    {
        if (input.Action != "rewrap")
        {
            await Console.Error.WriteLineAsync($"Unknown action '{input.Action}'; the only action is 'rewrap'.");
            return false;
        }

        using var host = input.BuildHost();
        var rewrapper = host.Services.GetRequiredService<SecretRewrapper>();
        var result = await rewrapper.RewrapAll(
            (done, total) => Console.WriteLine($"rewrapped {done} of {total}"), CancellationToken.None);
        Console.WriteLine($"Every secret is now under master key '{result.ActiveMasterKey}': {result.Rewrapped} rewrapped, {result.AlreadyCurrent} already current.");
        return true;
    }
}
