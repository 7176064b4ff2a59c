using Webhooks.BuildingBlocks;
using System.Security.Cryptography;
using System.Text;

namespace Webhooks.KeySafe.Crypto;

/// <summary>A secret as stored: AES-256-GCM ciphertext with its nonce and tag, and the master key it needs.</summary>
public sealed record SealedSecret(string MasterKeyId, string CheckValue, string Nonce, string Ciphertext, string Tag);

/// <summary>A secret could not be opened; the message says whether the master key is missing, wrong, or the data altered.</summary>
public sealed class SecretUnavailableException(string message) : Exception(message);

/// <summary>
/// Seals and opens secrets with AES-256-GCM: a fresh random 96-bit nonce per sealing, the master key's id beside the
/// ciphertext, and the owning key's id as associated data, so a ciphertext moved to another key does not open.
/// </summary>
public sealed class SecretBox(MasterKeyRing keys)
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public string ActiveMasterKeyId => keys.Active.Id;

    public SealedSecret Seal(Guid owner, ReadOnlySpan<byte> plaintext)
    {
        var key = keys.Active;
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[TagSize];
        using (var aes = new AesGcm(key.Material, TagSize))
        {
            aes.Encrypt(nonce, plaintext, ciphertext, tag, AssociatedData(owner));
        }

        return new SealedSecret(
            key.Id, key.CheckValue, Convert.ToBase64String(nonce), Convert.ToBase64String(ciphertext), Convert.ToBase64String(tag));
    }

    public byte[] Open(Guid owner, SealedSecret secret)
    {
        var key = keys.Find(secret.MasterKeyId) ?? throw new SecretUnavailableException(
            $"The secret of key {owner} was encrypted with master key '{secret.MasterKeyId}', which is not configured. " +
            "Add it to Webhooks:KeySafe:MasterKeys (beside the active one) until 'keysafe rewrap' has re-encrypted everything.");
        if (key.CheckValue != secret.CheckValue)
        {
            throw new SecretUnavailableException(
                $"The master key configured as '{key.Id}' is not the one the secret of key {owner} was encrypted with: " +
                "the wrong key material is configured under that id.");
        }

        var ciphertext = Convert.FromBase64String(secret.Ciphertext);
        var plaintext = new byte[ciphertext.Length];
        try
        {
            using var aes = new AesGcm(key.Material, TagSize);
            aes.Decrypt(Convert.FromBase64String(secret.Nonce), ciphertext, Convert.FromBase64String(secret.Tag), plaintext, AssociatedData(owner));
            Telemetry.Decryptions.Add(1);
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SecretUnavailableException(
                $"The stored secret of key {owner} fails its integrity check: it was altered or belongs to another key.");
        }
    }

    private static byte[] AssociatedData(Guid owner) => Encoding.ASCII.GetBytes($"webhooks-keysafe:{owner:N}");
}
