using System.Diagnostics;
using Alba;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine;

namespace Webhooks.Tests.KeySafe;

/// <summary>
/// Master key rotation as an operator does it: add the new key beside the old one and make it active; rewrap
/// (endpoint or command line); then remove the old key. Each step is a new host on the same database.
/// </summary>
public sealed class when_rotating_the_master_key(AppFixture fixture) : AppTest(fixture)
{
    private const string NewKeyId = "test-b";
    private static readonly string NewKey = Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public async Task new_secrets_use_the_new_key_and_rewrap_frees_the_old_one()
    {
        var before = await Fixture.CreatedKey("old-secret", "u-old", "p-old");
        var holder = Guid.NewGuid();
        var signing = await Host.MessageBus().InvokeAsync<SigningSecrets>(new ResolveSigningSecrets(holder, SigningState.First));

        await using (var both = await AppFixture.StartHost(new Dictionary<string, string>
        {
            [$"Webhooks:KeySafe:MasterKeys:{AppFixture.MasterKeyId}"] = AppFixture.MasterKey,
            [$"Webhooks:KeySafe:MasterKeys:{NewKeyId}"] = NewKey,
            ["Webhooks:KeySafe:ActiveMasterKey"] = NewKeyId,
        }))
        {
            var client = Webhooks.Client.WebhooksClient.Create(both.Server.CreateClient(), TestKeys.KeySafe);
            await client.CreateKey(new CreateKey("new-secret", KeyTypes.HttpBasic, null, "u-new", "p-new"));

            var result = await client.RewrapSecrets();
            // The old key's secret and the signing root (every signing secret is derived from it).
            result.ShouldBe(new RewrapResult(NewKeyId, Rewrapped: 2, AlreadyCurrent: 1));
            (await client.RewrapSecrets()).ShouldBe(new RewrapResult(NewKeyId, 0, 3));
        }

        await using var onlyNew = await AppFixture.StartHost(new Dictionary<string, string>
        {
            [$"Webhooks:KeySafe:MasterKeys:{NewKeyId}"] = NewKey,
        });
        var credential = await onlyNew.MessageBus().InvokeAsync<Credential>(new ResolveCredential(before.Id));
        (credential.Username, credential.Password).ShouldBe(("u-old", "p-old"));
        (await onlyNew.MessageBus().InvokeAsync<SigningSecrets>(new ResolveSigningSecrets(holder, SigningState.First))).Current
            .ShouldBe(signing.Current, "signing secrets do not change with the master key");
    }

    [Fact]
    public async Task without_the_old_key_an_unwrapped_secret_fails_with_a_clear_error()
    {
        var key = await Fixture.CreatedKey();

        await using var onlyNew = await AppFixture.StartHost(new Dictionary<string, string>
        {
            [$"Webhooks:KeySafe:MasterKeys:{NewKeyId}"] = NewKey,
        });
        var error = await Should.ThrowAsync<Exception>(
            () => onlyNew.MessageBus().InvokeAsync<Credential>(new ResolveCredential(key.Id)));
        error.ToString().ShouldContain($"master key '{AppFixture.MasterKeyId}', which is not configured");
    }

    [Fact]
    public async Task the_command_line_rewraps_too()
    {
        await Fixture.CreatedKey("for-the-command");

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
            ArgumentList = { Repository.HostDll, "keysafe", "rewrap" },
            Environment =
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["ConnectionStrings__Webhooks"] = TestDatabase.ConnectionString,
                [$"Webhooks__KeySafe__MasterKeys__{AppFixture.MasterKeyId}"] = AppFixture.MasterKey,
                [$"Webhooks__KeySafe__MasterKeys__{NewKeyId}"] = NewKey,
                ["Webhooks__KeySafe__ActiveMasterKey"] = NewKeyId,
            },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token);

        var text = await output + await error;
        process.ExitCode.ShouldBe(0, text);
        text.ShouldContain($"Every secret is now under master key '{NewKeyId}': 2 rewrapped, 0 already current.");
    }
}
