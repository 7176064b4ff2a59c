using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Marten;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;
using Webhooks.KeySafe.Crypto;

namespace Webhooks.Host.Postgres;

/// <summary>One ASP.NET Data Protection key (the console's sign-in cookies are encrypted with these), encrypted, as XML.</summary>
public sealed class DataProtectionKey
{
    public string Id { get; set; } = "";
    public string Xml { get; set; } = "";
}

/// <summary>
/// Keeps Data Protection's keys in the database, so every host of a cluster reads the console's cookies and a restart
/// signs nobody out, encrypted at rest (AES-256-GCM) with a key derived from the active KeySafe master key: reading the
/// database is not enough to read a cookie (which holds an API key). A master key rotated away makes the keys it
/// protected unreadable: sessions then end, and new keys are made.
/// </summary>
internal sealed class DataProtectionKeysInDatabase(IDocumentStore store, MasterKeyRing masterKeys) : IConfigureOptions<KeyManagementOptions>
{
    public void Configure(KeyManagementOptions options)
    {
        options.XmlRepository = new Repository(store);
        options.XmlEncryptor = new MasterKeyXmlEncryptor(masterKeys);
    }

    private sealed class Repository(IDocumentStore store) : IXmlRepository
    {
        // Data Protection's interface is synchronous; it is called at start and when a key is made (every 90 days).
        public IReadOnlyCollection<XElement> GetAllElements()
        {
            using var session = store.QuerySession();
            return session.Query<DataProtectionKey>().ToListAsync().GetAwaiter().GetResult().Select(k => XElement.Parse(k.Xml)).ToList();
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            using var session = store.LightweightSession();
            session.Store(new DataProtectionKey { Id = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
            session.SaveChangesAsync().GetAwaiter().GetResult();
        }
    }
}

/// <summary>Encrypts a Data Protection key's XML with the active master key's derived key (the decryptor finds the key by id).</summary>
internal sealed class MasterKeyXmlEncryptor(MasterKeyRing masterKeys) : IXmlEncryptor
{
    public const string Purpose = "webhooks-aspnet-data-protection";
    private static readonly byte[] Associated = Encoding.UTF8.GetBytes(Purpose);

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var master = masterKeys.Active;
        var plain = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var cipher = new byte[plain.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(master.Derive(Purpose), tag.Length))
        {
            aes.Encrypt(nonce, plain, cipher, tag, Associated);
        }

        return new EncryptedXmlInfo(
            new XElement("encryptedKey",
                new XAttribute("masterKey", master.Id),
                new XAttribute("nonce", Convert.ToBase64String(nonce)),
                new XAttribute("tag", Convert.ToBase64String(tag)),
                Convert.ToBase64String(cipher)),
            typeof(MasterKeyXmlDecryptor));
    }

    public static XElement Decrypt(MasterKeyRing masterKeys, XElement encrypted)
    {
        var id = (string)encrypted.Attribute("masterKey")!;
        var master = masterKeys.Find(id)
            ?? throw new CryptographicException($"The master key '{id}' that protected this Data Protection key is no longer configured.");
        var cipher = Convert.FromBase64String(encrypted.Value);
        var tag = Convert.FromBase64String((string)encrypted.Attribute("tag")!);
        var plain = new byte[cipher.Length];
        using (var aes = new AesGcm(master.Derive(Purpose), tag.Length))
        {
            aes.Decrypt(Convert.FromBase64String((string)encrypted.Attribute("nonce")!), cipher, tag, plain, Associated);
        }

        return XElement.Parse(Encoding.UTF8.GetString(plain));
    }
}

/// <summary>Made by Data Protection (it needs a constructor taking the service provider).</summary>
internal sealed class MasterKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) =>
        MasterKeyXmlEncryptor.Decrypt(services.GetRequiredService<MasterKeyRing>(), encryptedElement);
}
