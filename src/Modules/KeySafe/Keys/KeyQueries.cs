using Marten;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.KeySafe.Keys;

public static class DescribeKeyHandler
{
    public static async Task<KeyDescription> Handle(DescribeKey describe, IQuerySession session, CancellationToken cancellation)
    {
        var key = await session.LoadAsync<Key>(describe.KeyId, cancellation);
        return new KeyDescription(describe.KeyId, key is not null, key?.Name, key?.Type, key?.AllowedOrigins);
    }
}

public static class ResolveHttpBasicCredentialHandler
{
    public static async Task<HttpBasicCredential> Handle(
        ResolveHttpBasicCredential resolve, IQuerySession session, Crypto.SecretBox box, CancellationToken cancellation)
    {
        var key = await session.LoadAsync<Key>(resolve.KeyId, cancellation);
        var secret = await session.LoadAsync<KeySecret>(resolve.KeyId, cancellation);
        if (key is not { Type: KeyTypes.HttpBasic } || secret is null)
        {
            return new HttpBasicCredential(resolve.KeyId, false, null, null);
        }

        var opened = Secrets.OpenHttpBasic(box, resolve.KeyId, secret);
        return new HttpBasicCredential(resolve.KeyId, true, opened.Username, opened.Password, key.AllowedOrigins);
    }
}
