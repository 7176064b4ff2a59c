using System.Net;
using System.Text;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

public sealed class when_secrets_change(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task during_a_signing_secret_rotation_deliveries_verify_with_either_secret()
    {
        await Fixture.Hook("notify-crm", Receiver.Url);
        var admin = Fixture.Client(TestKeys.Admin);
        var before = await admin.GetSigningSecret("notify-crm");
        await Host.Publish(HttpStatusCode.Accepted);
        DispatchSetup.SignedBy((await Receiver.WaitFor(1))[0], before.Secret).ShouldBeTrue();

        Webhooks.Definitions.Contracts.SigningSecretView rotated = null!;
        await Host.ExecuteAndWaitAsync(async () => rotated = await admin.RotateSigningSecret("notify-crm"));
        await Host.Publish(HttpStatusCode.Accepted);
        var during = (await Receiver.WaitFor(2))[1];

        during.Header("webhook-signature")!.Split(' ').Length.ShouldBe(2);
        DispatchSetup.SignedBy(during, rotated.Secret).ShouldBeTrue("receivers that switched verify with the new secret");
        DispatchSetup.SignedBy(during, before.Secret).ShouldBeTrue("receivers that did not switch yet still verify");
        DispatchSetup.SignedBy(during, "whsec_" + Convert.ToBase64String(new byte[32])).ShouldBeFalse();
    }

    [Fact]
    public async Task a_rotated_keysafe_credential_is_used_from_the_next_delivery_on()
    {
        var key = await Fixture.CreatedKey(username: "u1", password: "p1");
        await Fixture.Hook("notify-crm", Receiver.Url, keyId: key.Id);
        await Host.Publish(HttpStatusCode.Accepted);
        (await Receiver.WaitFor(1))[0].Header("Authorization").ShouldBe(Basic("u1", "p1"));

        await Host.ExecuteAndWaitAsync(() => Fixture.Client(TestKeys.KeySafe).RotateKeySecret(key.Id, new RotateKeySecret("u2", "p2")));
        await Host.Publish(HttpStatusCode.Accepted);

        (await Receiver.WaitFor(2))[1].Header("Authorization").ShouldBe(Basic("u2", "p2"));
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
}
