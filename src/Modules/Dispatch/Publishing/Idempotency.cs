using System.Security.Cryptography;
using System.Text;
using Webhooks.Dispatch.Contracts;

namespace Webhooks.Dispatch.Publishing;

/// <summary>The first answer to an Idempotency-Key, kept 24 hours; keyed by the caller and the key.</summary>
public sealed class IdempotentPublish
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public string Id { get; set; } = "";
    public string Fingerprint { get; set; } = "";
    public required PublishResult Result { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    public static string IdFor(string actor, string key) => $"{actor}\n{key}";

    public static string FingerprintOf(PublishEntityEvent e) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
        $"{e.Application}\n{e.EventSource}\n{e.ActionBy}\n{e.ActionByName}\n{e.CallingSessionId}\n{e.Record?.GetRawText()}")));
}
