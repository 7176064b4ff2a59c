using System.Security.Cryptography;
using System.Text;

namespace Webhooks.Dispatch.Outbound;

/// <summary>Standard Webhooks signatures: <c>v1,base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))</c>.</summary>
public static class Signing
{
    public const string SecretPrefix = "whsec_";

    public static string Signature(string secret, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }

    /// <summary>One signature per valid secret, space-separated, so receivers on either secret verify during a rotation.</summary>
    public static string Header(IEnumerable<string> secrets, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var signatures = new List<string>();
        foreach (var secret in secrets)
        {
            signatures.Add(Signature(secret, id, timestamp, body));
        }

        return string.Join(' ', signatures);
    }
}
