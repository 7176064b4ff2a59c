using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Webhooks.BuildingBlocks;

namespace Webhooks.KeySafe.Crypto;

/// <summary>A 256-bit master key and its id. Its check value tells a wrong key from tampered data.</summary>
public sealed class MasterKey
{
    public const int Size = 32;

    public MasterKey(string id, byte[] material)
    {
        Id = id;
        Material = material;
        CheckValue = Convert.ToBase64String(HMACSHA256.HashData(material, "webhooks-keysafe-check-value"u8)[..8]);
    }

    public string Id { get; }

    internal byte[] Material { get; }

    /// <summary>A short digest of the key, stored beside each ciphertext; it reveals nothing usable of the key.</summary>
    public string CheckValue { get; }

    /// <summary>
    /// A 256-bit key for another purpose (HKDF-SHA256 with the purpose as info): the host encrypts what else it keeps
    /// at rest with it (the console's Data Protection keys), without the master key itself leaving KeySafe.
    /// </summary>
    public byte[] Derive(string purpose) => HKDF.DeriveKey(HashAlgorithmName.SHA256, Material, Size, info: Encoding.UTF8.GetBytes(purpose));
}

/// <summary>
/// The configured master keys: <c>Webhooks:KeySafe:MasterKeys:&lt;id&gt;</c> = base64 of 32 random bytes, and
/// <c>Webhooks:KeySafe:ActiveMasterKey</c> = the id new secrets are encrypted with (optional with one key).
/// In Development, when none is configured, one is generated once into a file with owner-only permissions.
/// </summary>
public sealed class MasterKeyRing
{
    public const string Section = "Webhooks:KeySafe";
    public const string DefaultDevelopmentKeyFile = ".data/keysafe-master-key.json";

    private readonly Dictionary<string, MasterKey> keys;

    public MasterKeyRing(IEnumerable<MasterKey> keys, string activeId)
    {
        this.keys = keys.ToDictionary(k => k.Id, StringComparer.Ordinal);
        Active = this.keys[activeId];
    }

    public MasterKey Active { get; }

    /// <summary>Where the Development master key was generated or read, when it was.</summary>
    public string? DevelopmentKeyFile { get; private init; }

    public MasterKey? Find(string id) => keys.GetValueOrDefault(id);

    public static MasterKeyRing FromConfiguration(IConfiguration configuration, bool isDevelopment, string contentRoot)
    {
        var section = configuration.GetSection(Section);
        var configured = section.GetSection("MasterKeys").GetChildren().ToList();
        if (configured.Count == 0)
        {
            if (!isDevelopment)
            {
                throw new StartupException(
                    "No KeySafe master key is configured, and outside Development none is generated. Configure one, e.g. " +
                    "Webhooks__KeySafe__MasterKeys__k1=$(openssl rand -base64 32), and keep it safe: without it the stored " +
                    "credentials cannot be decrypted.");
            }

            var file = Path.Combine(contentRoot, section["DevelopmentKeyFile"] ?? DefaultDevelopmentKeyFile);
            var generated = DevelopmentKey(file);
            return new MasterKeyRing([generated], generated.Id) { DevelopmentKeyFile = file };
        }

        var problems = new List<string>();
        var keys = new List<MasterKey>();
        foreach (var entry in configured)
        {
            if (Names.Problem(entry.Key) is { } idProblem)
            {
                problems.Add($"The master key id '{entry.Key}' {idProblem}.");
            }

            var material = Decode(entry.Value);
            if (material is null)
            {
                problems.Add($"The master key '{entry.Key}' must be base64 of exactly {MasterKey.Size} random bytes (generate one with 'openssl rand -base64 32').");
                continue;
            }

            keys.Add(new MasterKey(entry.Key, material));
        }

        var active = section["ActiveMasterKey"];
        if (active is null && keys.Count > 1)
        {
            problems.Add($"Several master keys are configured ({string.Join(", ", keys.Select(k => k.Id))}); set Webhooks:KeySafe:ActiveMasterKey to the one new secrets use.");
        }
        else if (active is not null && keys.All(k => k.Id != active))
        {
            problems.Add($"Webhooks:KeySafe:ActiveMasterKey is '{active}', but no master key has that id.");
        }

        if (problems.Count > 0)
        {
            throw new StartupException("Webhooks:KeySafe is not valid:\n  " + string.Join("\n  ", problems));
        }

        return new MasterKeyRing(keys, active ?? keys[0].Id);
    }

    private static byte[]? Decode(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var buffer = new byte[MasterKey.Size + 1];
        return Convert.TryFromBase64String(value.Trim(), buffer, out var written) && written == MasterKey.Size
            ? buffer[..MasterKey.Size]
            : null;
    }

    private sealed record KeyFile(string Id, string Key);

    private static MasterKey DevelopmentKey(string path)
    {
        if (File.Exists(path))
        {
            var stored = JsonSerializer.Deserialize<KeyFile>(File.ReadAllText(path))
                ?? throw new StartupException($"The Development master key file '{path}' is empty; delete it only if no secret was stored with it.");
            return new MasterKey(stored.Id, Decode(stored.Key)
                ?? throw new StartupException($"The Development master key file '{path}' does not hold a {MasterKey.Size}-byte key."));
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = new MasterKey($"dev-{DateTime.UtcNow:yyyyMMdd}", RandomNumberGenerator.GetBytes(MasterKey.Size));
        // Created empty with owner-only permissions first, so the key is never readable by others, not even briefly.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new KeyFile(key.Id, Convert.ToBase64String(key.Material)))));
        }

        return key;
    }
}
