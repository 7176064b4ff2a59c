using System.Text;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Definitions.Contracts;
using Webhooks.Definitions.Hooks;
using Webhooks.KeySafe.Crypto;
using Webhooks.KeySafe.Signing;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Definitions;

/// <summary>
/// Webhooks defined before signing secrets were derived had theirs issued and stored in KeySafe. An upgrade must not
/// change a secret receivers already verify with: the stored one signs until the webhook's first rotation, and then
/// keeps signing beside the new one for the grace period.
/// </summary>
public sealed class when_a_secret_was_stored_before_derivation(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task the_stored_secret_signs_until_the_first_rotation_and_then_beside_the_new_one()
    {
        const string stored = "whsec_c3RvcmVkLWJlZm9yZS1kZXJpdmF0aW9uLTMyLWJ5dGVzISE=";
        var id = Guid.CreateVersion7();
        var store = Host.Services.GetRequiredService<IDocumentStore>();
        var box = Host.Services.GetRequiredService<SecretBox>();
        await using (var session = store.LightweightSession())
        {
            // As an older version wrote them: no SigningDerived in the event, the secret sealed in KeySafe.
            session.Events.StartStream<Webhook>(id, new WebhookDefined(
                id, "older", null, DefinitionsSetup.Application, DefinitionsSetup.EventSource, true, null, "https://crm.example.com/hooks",
                PayloadFormats.Json, PostModes.Async, null, "admin", DateTimeOffset.UtcNow));
            session.Store(new SigningSecret { Id = id, Current = box.Seal(id, Encoding.UTF8.GetBytes(stored)) });
            await session.SaveChangesAsync();
        }

        var admin = Fixture.Client(TestKeys.Admin);
        (await admin.GetSigningSecret("older")).ShouldBe(new SigningSecretView(stored, null, null));

        var rotated = await admin.RotateSigningSecret("older");
        rotated.Secret.ShouldNotBe(stored);
        rotated.PreviousSecret.ShouldBe(stored, "receivers that still verify with the stored secret keep working for the grace period");
        (await admin.GetSigningSecret("older")).ShouldBe(rotated);

        var again = await admin.RotateSigningSecret("older");
        again.PreviousSecret.ShouldBe(rotated.Secret);
    }
}
