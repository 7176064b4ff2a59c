using System.Security.Cryptography;
using System.Text.Json;
using Webhooks.KeySafe.Crypto;

namespace Webhooks.KeySafe.Keys;

public static class Secrets
{
    public static KeySecret SealHttpBasic(SecretBox box, Guid keyId, string username, string password)
    {
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(new HttpBasicSecret(username, password));
        try
        {
            return new KeySecret { Id = keyId, Sealed = box.Seal(keyId, plaintext) };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public static HttpBasicSecret OpenHttpBasic(SecretBox box, Guid keyId, KeySecret secret)
    {
        var plaintext = box.Open(keyId, secret.Sealed);
        try
        {
            return JsonSerializer.Deserialize<HttpBasicSecret>(plaintext)
                ?? throw new SecretUnavailableException($"The secret of key {keyId} is empty.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}
