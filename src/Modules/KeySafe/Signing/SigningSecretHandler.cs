using System.Security.Cryptography;
using System.Text;
using Marten;
using JasperFx;
using Marten.Schema;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Webhooks.KeySafe.Contracts;
using Webhooks.KeySafe.Crypto;

namespace Webhooks.KeySafe.Signing;

/// <summary>
/// The random root every signing secret is derived from, sealed under the master key like every other secret. One
/// per installation, created when the host starts (<see cref="SigningRootSeed"/>).
/// </summary>
public sealed class SigningRoot
{
    /// <summary>The one root's id (also its associated data when sealed).</summary>
    public static readonly Guid RootId = new("5196e700-0000-4000-8000-000000000001");

    public Guid Id { get; set; }
    public required SealedSecret Sealed { get; set; }
}

/// <summary>
/// A holder's signing secret as stored before secrets were derived (keyed by the holder's id). Still read for holders
/// whose history says so (<see cref="SigningState.Stored"/>) until their first rotation; never written any more.
/// </summary>
public sealed class SigningSecret
{
    public Guid Id { get; set; }
    public required SealedSecret Current { get; set; }
    public SealedSecret? Previous { get; set; }
    public DateTimeOffset? PreviousValidUntil { get; set; }
}

/// <summary>
/// Creates the signing root when the host starts, once per installation (two hosts racing: one wins); also Marten's
/// initial data, so a store reset (tests) creates it again.
/// </summary>
public sealed class SigningRootSeed(SecretBox box, IServiceProvider services) : IInitialData, IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Populate(services.GetRequiredService<IDocumentStore>(), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task Populate(IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        if (await session.LoadAsync<SigningRoot>(SigningRoot.RootId, cancellation) is not null)
        {
            return;
        }

        var root = RandomNumberGenerator.GetBytes(32);
        try
        {
            session.Insert(new SigningRoot { Id = SigningRoot.RootId, Sealed = box.Seal(SigningRoot.RootId, root) });
            await session.SaveChangesAsync(cancellation);
        }
        catch (DocumentAlreadyExistsException)
        {
            // Another host created it first: that one is the root.
        }
        finally
        {
            CryptographicOperations.ZeroMemory(root);
        }
    }
}

/// <summary>
/// Derives signing secrets (Standard Webhooks: <c>whsec_</c> + base64 of 32 bytes): HMAC-SHA256 of the signing root
/// over the holder's id and the generation. Nothing is written to issue or rotate one; a holder's own history says
/// which generation signs. The root is read by key each time (one indexed lookup: secrets are cached by their users),
/// and opened once per sealing, so a root rewrapped or replaced by another host is followed at once.
/// </summary>
public sealed class SigningSecretDeriver(SecretBox box)
{
    public const string Prefix = "whsec_";

    private (string Nonce, byte[] Root)? opened;

    public async ValueTask<string> Derive(IQuerySession session, Guid holderId, long generation, CancellationToken cancellation)
    {
        var sealedRoot = await session.LoadAsync<SigningRoot>(SigningRoot.RootId, cancellation) ?? throw new SecretUnavailableException(
            "KeySafe has no signing root yet: it is created when the host starts (Marten's initial data); start the host once against this database.");
        var root = opened is { } known && known.Nonce == sealedRoot.Sealed.Nonce ? known.Root : Open(sealedRoot);
        var message = Encoding.ASCII.GetBytes($"webhooks-signing:{holderId:N}:{generation}");
        return Prefix + Convert.ToBase64String(HMACSHA256.HashData(root, message));
    }

    private byte[] Open(SigningRoot sealedRoot)
    {
        var root = box.Open(SigningRoot.RootId, sealedRoot.Sealed);
        opened = (sealedRoot.Sealed.Nonce, root);
        return root;
    }
}

public static class SigningSecretHandler
{
    /// <summary>Read-only: the holder's current secret and, during a rotation's grace period, the previous one.</summary>
    public static async Task<SigningSecrets> Handle(
        ResolveSigningSecrets resolve, IQuerySession session, SigningSecretDeriver deriver, SecretBox box, TimeProvider time,
        CancellationToken cancellation)
    {
        var (holder, state) = (resolve.HolderId, resolve.State);
        var now = time.GetUtcNow();
        var stored = state.Stored || state.PreviousStored ? await session.LoadAsync<SigningSecret>(holder, cancellation) : null;
        if (state.Stored)
        {
            // Issued before derivation: the stored secrets as they were (one never stored was never shown: derive it).
            if (stored is null)
            {
                return new SigningSecrets(holder, await deriver.Derive(session, holder, 0, cancellation), null, null);
            }

            var previousValid = stored.Previous is not null && stored.PreviousValidUntil > now;
            return new SigningSecrets(
                holder, Open(box, holder, stored.Current), previousValid ? Open(box, holder, stored.Previous!) : null,
                previousValid ? stored.PreviousValidUntil : null);
        }

        var current = await deriver.Derive(session, holder, state.Generation, cancellation);
        if (state.PreviousValidUntil is not { } until || until <= now)
        {
            return new SigningSecrets(holder, current, null, null);
        }

        var previous = state.PreviousStored && stored is not null
            ? Open(box, holder, stored.Current)
            : await deriver.Derive(session, holder, state.Generation - 1, cancellation);
        return new SigningSecrets(holder, current, previous, until);
    }

    public static void Handle(ForgetStoredSigningSecret forget, IDocumentSession session) => session.Delete<SigningSecret>(forget.HolderId);

    private static string Open(SecretBox box, Guid holder, SealedSecret secret)
    {
        var bytes = box.Open(holder, secret);
        try
        {
            return Encoding.UTF8.GetString(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}
