using System.Security.Cryptography.X509Certificates;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.KeySafe.Keys;

/// <summary>An mtls key's certificate with its private key, loaded from what was sealed (PEM pair or PKCS#12).</summary>
public static class ClientCertificates
{
    /// <summary>
    /// The certificate with its key, ready for a TLS client. A PEM pair is loaded through PKCS#12, so the key is held
    /// the same way on every platform (an ephemeral PEM key is refused by some TLS stacks).
    /// </summary>
    public static X509Certificate2 Load(KeyMaterial material)
    {
        if (material.Pkcs12Base64 is { } pkcs12)
        {
            return X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(pkcs12), material.Pkcs12Password);
        }

        using var pem = X509Certificate2.CreateFromPem(material.CertificatePem, material.PrivateKeyPem);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    public static CertificateFacts Facts(X509Certificate2 certificate) => new(
        certificate.Subject,
        certificate.Issuer,
        Convert.ToHexString(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256)),
        new DateTimeOffset(certificate.NotBefore.ToUniversalTime()),
        new DateTimeOffset(certificate.NotAfter.ToUniversalTime()));
}
