using System.Security.Cryptography;
using System.Text.Json;
using Webhooks.KeySafe.Crypto;

namespace Webhooks.KeySafe.Keys;

public static class Secrets
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public static KeySecret Seal(SecretBox box, Guid keyId, KeyMaterial material)
    {
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(material, Json);
        try
        {
            return new KeySecret { Id = keyId, Sealed = box.Seal(keyId, plaintext) };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public static KeyMaterial Open(SecretBox box, Guid keyId, KeySecret secret)
    {
        var plaintext = box.Open(keyId, secret.Sealed);
        try
        {
            return JsonSerializer.Deserialize<KeyMaterial>(plaintext, Json)
                ?? throw new SecretUnavailableException($"The secret of key {keyId} is empty.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}
