using Marten;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.KeySafe.Keys;

public static class DescribeKeyHandler
{
    public static async Task<KeyDescription> Handle(DescribeKey describe, IQuerySession session, CancellationToken cancellation)
    {
        var key = await session.LoadAsync<Key>(describe.KeyId, cancellation);
        return new KeyDescription(describe.KeyId, key is not null, key?.Name, key?.Type, key?.AllowedOrigins, key?.Facts.HeaderName);
    }
}

public static class ResolveCredentialHandler
{
    public static async Task<Credential> Handle(ResolveCredential resolve, IQuerySession session, Crypto.SecretBox box, CancellationToken cancellation)
    {
        var key = await session.LoadAsync<Key>(resolve.KeyId, cancellation);
        var secret = await session.LoadAsync<KeySecret>(resolve.KeyId, cancellation);
        if (key is null || secret is null)
        {
            return Credential.Missing(resolve.KeyId);
        }

        var m = Secrets.Open(box, resolve.KeyId, secret);
        return new Credential(
            resolve.KeyId, true, key.Type, key.AllowedOrigins, m.Username, m.Password, m.Token, m.HeaderName, m.Value,
            m.TokenUrl, m.ClientId, m.ClientSecret, m.Scope, key.Type == KeyTypes.Mtls ? ClientCertificates.Load(m) : null);
    }
}
