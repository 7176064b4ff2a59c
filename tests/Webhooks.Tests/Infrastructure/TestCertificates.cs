using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Webhooks.Tests.Infrastructure;

/// <summary>
/// Certificates made for the test run (ECDSA P-256, nothing kept on disk but the authority's public PEM): a test
/// authority the hosts trust through <c>Webhooks:Dispatch:TrustedCertificateAuthorities</c>, a loopback server
/// certificate it issued for TLS receivers, and client certificates for mtls keys.
/// </summary>
public static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> authority = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Webhooks Test Authority", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-365), DateTimeOffset.UtcNow.AddDays(365));
        return Reloaded(created);
    });

    private static readonly Lazy<string> authorityPath = new(() =>
    {
        var directory = Directory.CreateTempSubdirectory("wh-test-authority-");
        var path = Path.Combine(directory.FullName, "authority.pem");
        File.WriteAllText(path, authority.Value.ExportCertificatePem());
        return path;
    });

    private static readonly Lazy<X509Certificate2> server = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(authority.Value, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(key);
        return Reloaded(withKey);
    });

    /// <summary>The PEM file of the test authority (written once per run).</summary>
    public static string AuthorityPemPath => authorityPath.Value;

    /// <summary>The TLS receivers' certificate: 127.0.0.1, issued by the test authority.</summary>
    public static X509Certificate2 Server => server.Value;

    /// <summary>A client certificate for TLS client authentication, as PEM (certificate, PKCS#8 private key).</summary>
    public static (string CertificatePem, string PrivateKeyPem) ClientPem(string commonName, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Client(commonName, key, notAfter);
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A client certificate with its key as PKCS#12, base64, under <paramref name="password"/>.</summary>
    public static string ClientPkcs12(string commonName, string password)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Client(commonName, key, null);
        using var withKey = certificate.CopyWithPrivateKey(key);
        return Convert.ToBase64String(withKey.Export(X509ContentType.Pkcs12, password));
    }

    private static X509Certificate2 Client(string commonName, ECDsa key, DateTimeOffset? notAfter)
    {
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var until = notAfter ?? DateTimeOffset.UtcNow.AddDays(7);
        return request.Create(authority.Value, until.AddDays(-30), until, RandomNumberGenerator.GetBytes(8));
    }

    /// <summary>Through PKCS#12, so the key is held as TLS on every platform expects.</summary>
    private static X509Certificate2 Reloaded(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
}
