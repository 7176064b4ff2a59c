using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Webhooks.BuildingBlocks;
using Webhooks.KeySafe.Crypto;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.KeySafe;

public sealed class CryptoTests
{
    private static readonly Guid Owner = Guid.NewGuid();

    [Fact]
    public void a_sealed_secret_opens_with_its_master_key_and_hides_the_plaintext()
    {
        var box = Box(("k1", Material(1)));

        var sealedSecret = box.Seal(Owner, "hunter2"u8);

        sealedSecret.MasterKeyId.ShouldBe("k1");
        Convert.FromBase64String(sealedSecret.Nonce).Length.ShouldBe(12);
        Convert.FromBase64String(sealedSecret.Tag).Length.ShouldBe(16);
        Encoding.UTF8.GetString(Convert.FromBase64String(sealedSecret.Ciphertext)).ShouldNotContain("hunter2");
        Encoding.UTF8.GetString(box.Open(Owner, sealedSecret)).ShouldBe("hunter2");
    }

    [Fact]
    public void every_sealing_uses_a_fresh_nonce()
    {
        var box = Box(("k1", Material(1)));
        var first = box.Seal(Owner, "same"u8);
        var second = box.Seal(Owner, "same"u8);

        first.Nonce.ShouldNotBe(second.Nonce);
        first.Ciphertext.ShouldNotBe(second.Ciphertext);
    }

    [Fact]
    public void the_wrong_master_key_under_the_right_id_is_named_as_such()
    {
        var sealedSecret = Box(("k1", Material(1))).Seal(Owner, "x"u8);

        var error = Should.Throw<SecretUnavailableException>(() => Box(("k1", Material(2))).Open(Owner, sealedSecret));
        error.Message.ShouldContain("wrong key material");
    }

    [Fact]
    public void a_missing_master_key_is_named_with_what_to_configure()
    {
        var sealedSecret = Box(("old", Material(1))).Seal(Owner, "x"u8);

        var error = Should.Throw<SecretUnavailableException>(() => Box(("new", Material(2))).Open(Owner, sealedSecret));
        error.Message.ShouldContain("'old', which is not configured");
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("tag")]
    [InlineData("nonce")]
    [InlineData("owner")]
    public void tampering_is_detected(string part)
    {
        var box = Box(("k1", Material(1)));
        var sealedSecret = box.Seal(Owner, "a secret of some length"u8);
        var owner = Owner;
        sealedSecret = part switch
        {
            "ciphertext" => sealedSecret with { Ciphertext = Flip(sealedSecret.Ciphertext) },
            "tag" => sealedSecret with { Tag = Flip(sealedSecret.Tag) },
            "nonce" => sealedSecret with { Nonce = Flip(sealedSecret.Nonce) },
            _ => sealedSecret,
        };
        if (part == "owner")
        {
            owner = Guid.NewGuid();
        }

        Should.Throw<SecretUnavailableException>(() => box.Open(owner, sealedSecret)).Message.ShouldContain("integrity check");
    }

    [Fact]
    public void outside_development_no_master_key_means_the_host_refuses_to_start()
    {
        Should.Throw<StartupException>(() => MasterKeyRing.FromConfiguration(Configuration(), false, Path.GetTempPath()))
            .Message.ShouldContain("openssl rand -base64 32");
    }

    [Fact]
    public void bad_master_key_configuration_is_refused_with_every_reason()
    {
        var error = Should.Throw<StartupException>(() => MasterKeyRing.FromConfiguration(
            Configuration(("short", Convert.ToBase64String(new byte[16])), ("not-base64", "!!!"), ("fine", Convert.ToBase64String(Material(1)))),
            false, Path.GetTempPath()));

        error.Message.ShouldContain("'short' must be base64 of exactly 32");
        error.Message.ShouldContain("'not-base64' must be base64");
    }

    [Fact]
    public void with_several_master_keys_the_active_one_is_chosen_by_configuration()
    {
        var settings = Configuration(("old", Convert.ToBase64String(Material(1))), ("new", Convert.ToBase64String(Material(2))));
        settings["Webhooks:KeySafe:ActiveMasterKey"] = "new";

        MasterKeyRing.FromConfiguration(settings, false, Path.GetTempPath()).Active.Id.ShouldBe("new");

        settings["Webhooks:KeySafe:ActiveMasterKey"] = null;
        Should.Throw<StartupException>(() => MasterKeyRing.FromConfiguration(settings, false, Path.GetTempPath()))
            .Message.ShouldContain("set Webhooks:KeySafe:ActiveMasterKey");

        settings["Webhooks:KeySafe:ActiveMasterKey"] = "missing";
        Should.Throw<StartupException>(() => MasterKeyRing.FromConfiguration(settings, false, Path.GetTempPath()))
            .Message.ShouldContain("no master key has that id");
    }

    [Fact]
    public void development_generates_one_master_key_once_into_an_owner_only_file()
    {
        var root = Repository.TempDirectory("dev-master-key");
        try
        {
            var first = MasterKeyRing.FromConfiguration(Configuration(), true, root);
            var second = MasterKeyRing.FromConfiguration(Configuration(), true, root);

            first.DevelopmentKeyFile.ShouldBe(Path.Combine(root, MasterKeyRing.DefaultDevelopmentKeyFile));
            File.GetUnixFileMode(first.DevelopmentKeyFile!).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            second.Active.Id.ShouldBe(first.Active.Id);
            second.Active.CheckValue.ShouldBe(first.Active.CheckValue);
        }
        finally
        {
            TestDatabase.TryDelete(root);
        }
    }

    private static SecretBox Box(params (string Id, byte[] Material)[] keys) =>
        new(new MasterKeyRing(keys.Select(k => new MasterKey(k.Id, k.Material)), keys[0].Id));

    private static byte[] Material(byte seed) => SHA256.HashData([seed]);

    private static string Flip(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        bytes[0] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }

    private static IConfigurationRoot Configuration(params (string Id, string Value)[] keys) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(keys.ToDictionary(k => $"Webhooks:KeySafe:MasterKeys:{k.Id}", k => (string?)k.Value))
            .Build();
}
