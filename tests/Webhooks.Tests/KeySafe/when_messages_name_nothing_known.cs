using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine;
using Wolverine.Tracking;

namespace Webhooks.Tests.KeySafe;

/// <summary>
/// The messages modules send each other, naming a key or holder that does not exist (never was, or is gone): each is
/// answered or ignored as such, never an error that would put the message in the dead letters, and writes nothing.
/// </summary>
public sealed class when_messages_name_nothing_known(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task a_hold_on_a_key_that_never_existed_is_refused_back_and_writes_nothing()
    {
        var unknown = Guid.NewGuid();
        var tracked = await Host.TrackActivity().PublishMessageAndWaitAsync(new HoldKey(unknown, Guid.NewGuid(), "w", 1));

        tracked.Sent.SingleMessage<KeyHoldRefused>().KeyId.ShouldBe(unknown);
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.LoadAsync<Webhooks.KeySafe.Usage.KeyUsage>(unknown)).ShouldBeNull();
    }

    [Fact]
    public async Task a_release_of_an_unknown_key_and_a_forgotten_unknown_secret_change_nothing()
    {
        var unknown = Guid.NewGuid();
        var tracked = await Host.TrackActivity()
            .PublishMessageAndWaitAsync(new ReleaseKey(unknown, Guid.NewGuid(), 3));
        tracked.Executed.SingleMessage<ReleaseKey>().KeyId.ShouldBe(unknown);
        await Host.TrackActivity().PublishMessageAndWaitAsync(new ForgetStoredSigningSecret(unknown));

        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.LoadAsync<Webhooks.KeySafe.Usage.KeyUsage>(unknown)).ShouldBeNull();
    }

    [Fact]
    public async Task a_webhook_that_does_not_exist_signs_with_its_first_secret_and_nothing_is_written()
    {
        var bus = Host.MessageBus();
        var unknown = Guid.NewGuid();

        var secrets = await bus.InvokeAsync<SigningSecrets>(new Webhooks.Definitions.Contracts.ResolveWebhookSigningSecrets(unknown));

        secrets.Current.ShouldBe((await bus.InvokeAsync<SigningSecrets>(new ResolveSigningSecrets(unknown, SigningState.First))).Current);
        secrets.Previous.ShouldBeNull();
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.LoadAsync<Webhooks.KeySafe.Signing.SigningSecret>(unknown)).ShouldBeNull("resolving never writes");
    }

    [Fact]
    public async Task a_grace_period_already_over_gives_no_previous_secret()
    {
        var holder = Guid.NewGuid();
        var secrets = await Host.MessageBus().InvokeAsync<SigningSecrets>(
            new ResolveSigningSecrets(holder, new SigningState(2, DateTimeOffset.UtcNow.AddMinutes(-1))));

        (secrets.Previous, secrets.PreviousValidUntil).ShouldBe((null, null));
        secrets.Current.ShouldNotBe((await Host.MessageBus().InvokeAsync<SigningSecrets>(new ResolveSigningSecrets(holder, SigningState.First))).Current);
    }
}
