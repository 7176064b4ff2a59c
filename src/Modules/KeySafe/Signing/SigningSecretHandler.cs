using System.Security.Cryptography;
using System.Text;
using Marten;
using Webhooks.KeySafe.Contracts;
using Webhooks.KeySafe.Crypto;

namespace Webhooks.KeySafe.Signing;

/// <summary>A webhook's signing secrets, sealed like every other KeySafe secret; keyed by the webhook's id.</summary>
public sealed class SigningSecret
{
    public Guid Id { get; set; }
    public required SealedSecret Current { get; set; }
    public SealedSecret? Previous { get; set; }
    public DateTimeOffset? PreviousValidUntil { get; set; }
}

public static class SigningSecretHandler
{
    public const string Prefix = "whsec_";

    /// <summary>Standard Webhooks: "whsec_" and the base64 of 32 random bytes.</summary>
    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static async Task Handle(IssueSigningSecret issue, IDocumentSession session, SecretBox box, CancellationToken cancellation)
    {
        if (await session.LoadAsync<SigningSecret>(issue.WebhookId, cancellation) is null)
        {
            session.Insert(new SigningSecret { Id = issue.WebhookId, Current = Seal(box, issue.WebhookId, NewSecret()) });
        }
    }

    public static async Task<SigningSecrets> Handle(
        RotateSigningSecret rotate, IDocumentSession session, SecretBox box, TimeProvider time, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var stored = await session.LoadAsync<SigningSecret>(rotate.WebhookId, cancellation);
        var fresh = NewSecret();
        var rotated = new SigningSecret
        {
            Id = rotate.WebhookId,
            Current = Seal(box, rotate.WebhookId, fresh),
            Previous = stored?.Current,
            PreviousValidUntil = stored is null ? null : now + rotate.GracePeriod,
        };
        session.Store(rotated);
        return Open(box, rotated, now);
    }

    public static async Task<SigningSecrets> Handle(
        ResolveSigningSecrets resolve, IDocumentSession session, SecretBox box, TimeProvider time, CancellationToken cancellation)
    {
        var stored = await session.LoadAsync<SigningSecret>(resolve.WebhookId, cancellation);
        if (stored is null)
        {
            // A webhook whose secret was never issued (it was defined while KeySafe could not answer) gets one now.
            stored = new SigningSecret { Id = resolve.WebhookId, Current = Seal(box, resolve.WebhookId, NewSecret()) };
            session.Insert(stored);
        }

        return Open(box, stored, time.GetUtcNow());
    }

    private static SealedSecret Seal(SecretBox box, Guid webhookId, string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        try
        {
            return box.Seal(webhookId, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static SigningSecrets Open(SecretBox box, SigningSecret stored, DateTimeOffset now)
    {
        var previousValid = stored.Previous is not null && stored.PreviousValidUntil > now;
        return new SigningSecrets(
            stored.Id,
            Encoding.UTF8.GetString(box.Open(stored.Id, stored.Current)),
            previousValid ? Encoding.UTF8.GetString(box.Open(stored.Id, stored.Previous!)) : null,
            previousValid ? stored.PreviousValidUntil : null);
    }
}
