using System.Security.Cryptography;
using System.Text;

namespace Webhooks.BuildingBlocks;

/// <summary>
/// Name-based UUIDs (RFC 9562 version 5): the same name always gives the same stream id, so a resource
/// addressed by name maps to its event stream without a lookup, and two first writes collide in Marten.
/// </summary>
public static class StableGuid
{
    // A fixed namespace for this product; changing it would orphan every name-addressed stream.
    private static readonly Guid Namespace = new("6f1d5f2e-8a4b-4c33-9e0a-5b9d7c1e2a40");

    public static Guid From(string name)
    {
        Span<byte> input = stackalloc byte[16 + Encoding.UTF8.GetByteCount(name)];
        Namespace.TryWriteBytes(input[..16], bigEndian: true, out _);
        Encoding.UTF8.GetBytes(name, input[16..]);

        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // SHA-1 is what RFC 9562 prescribes for v5 ids; this is naming, not security.
        SHA1.HashData(input, hash);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
