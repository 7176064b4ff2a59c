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
/// which generation signs. The root is read by key once per question (one indexed lookup: secrets are cached by their
/// users), and opened once per sealing, so a root rewrapped or replaced by another host is followed at once.
/// </summary>
public sealed class SigningSecretDeriver(SecretBox box)
{
    public const string Prefix = "whsec_";

    // One reference, swapped whole: a reader never pairs one sealing's nonce with another's key.
    private OpenedRoot? opened;

    /// <summary>The root as stored now (one read by key), opened once per sealing.</summary>
    public async ValueTask<OpenedRoot> Root(IQuerySession session, CancellationToken cancellation)
    {
        var sealedRoot = await session.LoadAsync<SigningRoot>(SigningRoot.RootId, cancellation) ?? throw new SecretUnavailableException(
            "KeySafe has no signing root yet: it is created when the host starts (Marten's initial data); start the host once against this database.");
        if (Volatile.Read(ref opened) is { } known && known.Nonce == sealedRoot.Sealed.Nonce)
        {
            return known;
        }

        var root = new OpenedRoot(sealedRoot.Sealed.Nonce, box.Open(SigningRoot.RootId, sealedRoot.Sealed));
        Volatile.Write(ref opened, root);
        return root;
    }

    /// <summary>An opened signing root: derives a holder's secret of a generation.</summary>
    public sealed class OpenedRoot(string nonce, byte[] key)
    {
        public string Nonce { get; } = nonce;

        public string Derive(Guid holderId, long generation) =>
            Prefix + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"webhooks-signing:{holderId:N}:{generation}")));
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
                return new SigningSecrets(holder, (await deriver.Root(session, cancellation)).Derive(holder, 0), null, null);
            }

            var previousValid = stored.Previous is not null && stored.PreviousValidUntil > now;
            return new SigningSecrets(
                holder, Open(box, holder, stored.Current), previousValid ? Open(box, holder, stored.Previous!) : null,
                previousValid ? stored.PreviousValidUntil : null);
        }

        var root = await deriver.Root(session, cancellation);
        var current = root.Derive(holder, state.Generation);
        if (state.PreviousValidUntil is not { } until || until <= now)
        {
            return new SigningSecrets(holder, current, null, null);
        }

        var previous = state.PreviousStored && stored is not null
            ? Open(box, holder, stored.Current)
            : root.Derive(holder, state.Generation - 1);
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
