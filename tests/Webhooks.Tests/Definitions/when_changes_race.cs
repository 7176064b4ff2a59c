using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Refit;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Definitions;

/// <summary>
/// A change that spans modules happens with its history or not at all: a webhook's events, the hold on its KeySafe
/// key and its messages to Dispatch commit in one transaction (the outbox), and a signing-secret rotation is one
/// event of the webhook's history, nothing else.
/// </summary>
public sealed class when_changes_race(AppFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : AppTest(fixture)
{
    [Fact]
    public async Task a_key_deleted_while_a_webhook_is_defined_with_it_never_leaves_an_enabled_webhook_on_a_deleted_key()
    {
        await Fixture.Catalog();
        var admin = Fixture.Client(TestKeys.Admin);
        var keysafe = Fixture.Client(TestKeys.KeySafe);
        var outcomes = new HashSet<string>();
        for (var round = 0; round < 10; round++)
        {
            var key = await Fixture.CreatedKey($"raced-{round}");
            var name = $"raced-{round}";
            HttpStatusCode? defined = null, deleted = null;
            await Host.ExecuteAndWaitAsync(async () =>
            {
                var define = Attempt(() => admin.DefineWebhook(DefinitionsSetup.Webhook(name) with { KeySafeKeyId = key.Id }), HttpStatusCode.Created);
                var delete = Attempt(() => keysafe.DeleteKey(key.Id), HttpStatusCode.NoContent);
                (defined, deleted) = (await define, await delete);
            }, timeoutInMilliseconds: 30_000);

            var keyExists = deleted != HttpStatusCode.NoContent;
            var webhook = defined == HttpStatusCode.Created ? await admin.GetWebhook(name) : null;
            outcomes.Add($"define {(int)defined!}, delete {(int)deleted!}{(webhook is { Enabled: false } ? ", then disabled" : "")}");
            (defined == HttpStatusCode.Created || deleted == HttpStatusCode.NoContent).ShouldBeTrue($"round {round}: one of the two must win");
            if (webhook is not null && !keyExists)
            {
                webhook.Enabled.ShouldBeFalse($"round {round}: the webhook kept a key that was deleted under it");
                webhook.DisabledReason!.ShouldContain("deleted");
                (await admin.GetWebhookHistory(name)).Items[^1].Actor.ShouldBe("system");
            }

            if (keyExists && webhook is not null)
            {
                // The key is held: deleting it now is refused, naming the webhook.
                var refused = await Should.ThrowAsync<ApiException>(() => keysafe.DeleteKey(key.Id));
                refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
                refused.Content!.ShouldContain(name);
            }
        }

        output.WriteLine($"outcomes seen: {string.Join("; ", outcomes)}");
    }

    [Fact]
    public async Task a_definition_that_loses_a_race_for_its_name_holds_nothing()
    {
        await Fixture.Catalog();
        var admin = Fixture.Client(TestKeys.Admin);
        var key = await Fixture.CreatedKey();
        var answers = new List<HttpStatusCode>();
        await Host.ExecuteAndWaitAsync(async () =>
        {
            var attempts = Enumerable.Range(0, 4).Select(_ =>
                Attempt(() => admin.DefineWebhook(DefinitionsSetup.Webhook("contested") with { KeySafeKeyId = key.Id }), HttpStatusCode.Created));
            answers.AddRange(await Task.WhenAll(attempts));
        }, timeoutInMilliseconds: 30_000);

        answers.Count(a => a == HttpStatusCode.Created).ShouldBe(1, string.Join(", ", answers));
        answers.Where(a => a != HttpStatusCode.Created).ShouldAllBe(a => a == HttpStatusCode.Conflict);

        // Before, each loser had reserved the key for ten minutes: now only the winner holds it.
        await Host.ExecuteAndWaitAsync(() => admin.DeleteWebhook("contested"));
        await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id);
    }

    [Fact]
    public async Task racing_rotations_each_leave_one_history_entry_and_the_secret_of_the_last()
    {
        await Fixture.Catalog();
        var admin = Fixture.Client(TestKeys.Admin);
        await Fixture.DefinedWebhook();
        var first = await admin.GetSigningSecret("notify-crm");

        var rotations = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(async () =>
        {
            try
            {
                return await admin.RotateSigningSecret("notify-crm");
            }
            catch (ApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                return null;
            }
        })));

        var won = rotations.OfType<SigningSecretView>().ToList();
        won.ShouldNotBeEmpty();
        won.Select(r => r.Secret).Distinct().Count().ShouldBe(won.Count, "each rotation is its own generation");
        var history = (await admin.GetWebhookHistory("notify-crm")).Items;
        history.Count(c => c.EventType == "signingSecretRotated").ShouldBe(won.Count, "a rotation answered is a rotation recorded, and only those");
        var now = await admin.GetSigningSecret("notify-crm");
        won.Select(r => r.Secret).ShouldContain(now.Secret);
        now.PreviousSecret.ShouldBeOneOf([first.Secret, .. won.Select(r => r.Secret)]);
    }

    [Fact]
    public async Task each_event_of_a_webhook_and_a_key_names_who_caused_it_in_its_metadata()
    {
        // The changes run in command handlers and aggregate endpoints: their sessions are stamped with the actor.
        await Fixture.Catalog();
        var key = await Fixture.CreatedKey();
        await Fixture.Client(TestKeys.KeySafe).UpdateKey(key.Id, new Webhooks.KeySafe.Contracts.UpdateKey("renamed", null));
        var webhook = await Fixture.DefinedWebhook(DefinitionsSetup.Webhook() with { KeySafeKeyId = key.Id });
        await Fixture.Client(TestKeys.Admin).DisableWebhook("notify-crm");
        await Fixture.Client(TestKeys.Admin).RotateSigningSecret("notify-crm");

        await using var session = Host.Services.GetRequiredService<Marten.IDocumentStore>().QuerySession();
        (await session.Events.FetchStreamAsync(webhook.Id)).Select(e => e.UserName).ShouldBe(["admin", "admin", "admin"]);
        (await session.Events.FetchStreamAsync(key.Id)).Select(e => e.UserName).ShouldBe(["keysafe", "keysafe"]);
    }

    private static async Task<HttpStatusCode> Attempt(Func<Task> call, HttpStatusCode success)
    {
        await Task.Yield();
        try
        {
            await call();
            return success;
        }
        catch (ApiException e)
        {
            return e.StatusCode;
        }
    }
}
