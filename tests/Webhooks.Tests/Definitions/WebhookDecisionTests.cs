using Webhooks.Definitions.Contracts;
using Webhooks.Definitions.Hooks;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.Tests.Definitions;

/// <summary>The webhook use cases' decisions and the messages derived from them, as pure functions: no host, no database.</summary>
public sealed class WebhookDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Id = Guid.CreateVersion7();
    private static readonly Guid KeyA = Guid.NewGuid();
    private static readonly Guid KeyB = Guid.NewGuid();

    private static DefineWebhook Request(string name = "notify-crm", Guid? key = null) => new(
        name, "tell the CRM", "crm", "contact-update", true, key, "https://crm.example.com/hooks", PayloadFormats.Json, PostModes.Async, null);

    private static Webhook Defined(Guid? key = null) =>
        Webhook.Create((WebhookDefined)DefineWebhookHandler.Decide(new DefineWebhookCommand(Id, Request(key: key), "alice"), Now).Events.Single());

    [Fact]
    public void defining_starts_the_stream_with_a_derived_secret_and_holds_the_key()
    {
        var (write, events, messages) = WebhookChanges.Emit(null, DefineWebhookHandler.Decide(new DefineWebhookCommand(Id, Request(key: KeyA), "alice"), Now));

        events.Single().ShouldBeOfType<WebhookDefined>().SigningDerived.ShouldBeTrue();
        write.Webhook!.Version.ShouldBe(1);
        write.Webhook.Signing().ShouldBe(new SigningState(0, null));
        messages.OfType<WebhookChanged>().Single().Webhook.Version.ShouldBe(1);
        messages.OfType<HoldKey>().Single().ShouldBe(new HoldKey(KeyA, Id, "notify-crm", 1));
    }

    [Fact]
    public void an_update_that_changes_nothing_writes_and_says_nothing()
    {
        var webhook = Defined();
        var decision = UpdateWebhookHandler.Decide(new UpdateWebhookCommand(Id, "notify-crm", null, Request(), "bob"), webhook, Now);

        decision.ShouldBe(Decision.Nothing);
        var (write, events, messages) = WebhookChanges.Emit(webhook, decision);
        (events.Count, messages.Count, write.Webhook!.Version).ShouldBe((0, 0, 1L));
    }

    [Fact]
    public void an_update_against_a_stale_version_is_refused_with_412_and_writes_nothing()
    {
        var decision = UpdateWebhookHandler.Decide(new UpdateWebhookCommand(Id, "notify-crm", "\"7\"", Request(key: KeyA), "bob"), Defined(), Now);

        decision.Refusal!.Status.ShouldBe(412);
        var (_, events, messages) = WebhookChanges.Emit(Defined(), decision);
        (events.Count, messages.Count).ShouldBe((0, 0));
    }

    [Fact]
    public void moving_to_another_key_releases_the_old_one_and_holds_the_new_one_at_the_new_version()
    {
        var webhook = Defined(KeyA);
        var decision = UpdateWebhookHandler.Decide(new UpdateWebhookCommand(Id, "notify-crm", "\"1\"", Request(key: KeyB), "bob"), webhook, Now);

        decision.Events.Single().ShouldBeOfType<WebhookUpdated>().Changes.Single().ShouldBe(new FieldChange("keySafeKeyId", KeyA.ToString(), KeyB.ToString()));
        var messages = WebhookChanges.Emit(webhook, decision).Item3;
        messages.OfType<ReleaseKey>().Single().ShouldBe(new ReleaseKey(KeyA, Id, 2));
        messages.OfType<HoldKey>().Single().ShouldBe(new HoldKey(KeyB, Id, "notify-crm", 2));
    }

    [Fact]
    public void a_rename_renews_the_hold_under_the_new_name()
    {
        var webhook = Defined(KeyA);
        var decision = UpdateWebhookHandler.Decide(new UpdateWebhookCommand(Id, "notify-crm", null, Request("renamed", KeyA), "bob"), webhook, Now);

        var messages = WebhookChanges.Emit(webhook, decision).Item3;
        messages.OfType<HoldKey>().Single().ShouldBe(new HoldKey(KeyA, Id, "renamed", 2));
        messages.OfType<ReleaseKey>().ShouldBeEmpty();
    }

    [Fact]
    public void enabling_an_enabled_webhook_and_disabling_a_disabled_one_change_nothing()
    {
        var enabled = Defined();
        EnableWebhookHandler.Decide(new EnableWebhookCommand(Id, "notify-crm", null, "bob"), enabled, Now).ShouldBe(Decision.Nothing);

        var disable = DisableWebhookHandler.Decide(new DisableWebhookCommand(Id, "notify-crm", null, "maintenance", "bob"), enabled, Now);
        var disabled = WebhookChanges.Emit(enabled, disable).Item1.Webhook!;
        (disabled.Enabled, disabled.DisabledReason, disabled.Version).ShouldBe((false, "maintenance", 2L));
        DisableWebhookHandler.Decide(new DisableWebhookCommand(Id, "notify-crm", null, "again", "bob"), disabled, Now).ShouldBe(Decision.Nothing);
    }

    [Fact]
    public void a_missing_webhook_is_404_for_every_change()
    {
        UpdateWebhookHandler.Decide(new UpdateWebhookCommand(Id, "gone", null, Request(), "bob"), null, Now).Refusal!.Status.ShouldBe(404);
        EnableWebhookHandler.Decide(new EnableWebhookCommand(Id, "gone", null, "bob"), null, Now).Refusal!.Status.ShouldBe(404);
        DisableWebhookHandler.Decide(new DisableWebhookCommand(Id, "gone", null, null, "bob"), null, Now).Refusal!.Status.ShouldBe(404);
        DeleteWebhookHandler.Decide(new DeleteWebhookCommand(Id, "gone", null, "bob"), null, Now).Refusal!.Status.ShouldBe(404);
        RotateSigningSecretHandler.Decide(new RotateSigningSecretCommand(Id, "gone", "bob"), null, TimeSpan.FromHours(1), Now).Refusal!.Status.ShouldBe(404);
    }

    [Fact]
    public void deleting_tells_dispatch_releases_the_key_and_forgets_any_stored_secret()
    {
        var webhook = Defined(KeyA);
        var (write, events, messages) = WebhookChanges.Emit(webhook, DeleteWebhookHandler.Decide(new DeleteWebhookCommand(Id, "notify-crm", "\"1\"", "bob"), webhook, Now));

        write.Webhook.ShouldBeNull();
        events.Single().ShouldBeOfType<WebhookDeleted>();
        messages.ShouldBe([new WebhookRemoved(Id, "notify-crm", 2), new ReleaseKey(KeyA, Id, 2), new ForgetStoredSigningSecret(Id)]);
    }

    [Fact]
    public void a_rotation_is_the_next_generation_with_the_previous_one_valid_for_the_grace_period()
    {
        var webhook = Defined();
        var grace = TimeSpan.FromHours(24);
        var once = WebhookChanges.Emit(webhook, RotateSigningSecretHandler.Decide(new RotateSigningSecretCommand(Id, "notify-crm", "bob"), webhook, grace, Now)).Item1.Webhook!;
        var twice = WebhookChanges.Emit(once, RotateSigningSecretHandler.Decide(new RotateSigningSecretCommand(Id, "notify-crm", "bob"), once, grace, Now)).Item1.Webhook!;

        once.Signing().ShouldBe(new SigningState(1, Now + grace));
        twice.Signing().ShouldBe(new SigningState(2, Now + grace));
        twice.Version.ShouldBe(3);
    }

    [Fact]
    public void a_webhook_whose_secret_was_stored_before_derivation_keeps_it_until_its_first_rotation()
    {
        var legacy = Webhook.Create(new WebhookDefined(
            Id, "old", null, "crm", "contact-update", true, null, "https://crm.example.com", PayloadFormats.Json, PostModes.Async, null, "alice", Now));
        legacy.Signing().ShouldBe(new SigningState(0, null, Stored: true));

        var rotatedBefore = legacy.Apply(new WebhookSigningSecretRotated(Id, Now.AddHours(1), "alice", Now));
        rotatedBefore.Signing().Stored.ShouldBeTrue("a rotation recorded before derivation rotated the stored secret");

        var rotated = WebhookChanges.Emit(rotatedBefore, RotateSigningSecretHandler.Decide(
            new RotateSigningSecretCommand(Id, "old", "bob"), rotatedBefore, TimeSpan.FromHours(24), Now)).Item1.Webhook!;
        rotated.Signing().ShouldBe(new SigningState(1, Now.AddHours(24), Stored: false, PreviousStored: true));
    }

    [Fact]
    public void a_refused_key_hold_disables_the_webhook_only_while_it_still_uses_that_key()
    {
        var webhook = Defined(KeyA);
        var refused = new KeyHoldRefused(KeyA, Id, 1, "Its KeySafe key was deleted");

        var disabled = KeyHoldRefusedHandler.Decide(refused, webhook, Now).Events.Single().ShouldBeOfType<WebhookDisabled>();
        (disabled.Actor, disabled.Reason).ShouldBe(("system", "Its KeySafe key was deleted"));
        KeyHoldRefusedHandler.Decide(refused with { KeyId = KeyB }, webhook, Now).ShouldBe(Decision.Nothing);
        KeyHoldRefusedHandler.Decide(refused, null, Now).ShouldBe(Decision.Nothing);
    }
}
