using System.Net;
using Alba;
using Microsoft.Extensions.DependencyInjection;
using Refit;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine;
using Wolverine.Tracking;

namespace Webhooks.Tests.Definitions;

public sealed class when_defining_webhooks(AppFixture fixture) : AppTest(fixture)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.Catalog();
    }

    [Fact]
    public async Task a_defined_webhook_is_answered_with_its_location_etag_and_version_and_announced_to_other_modules()
    {
        IScenarioResult result = null!;
        var tracked = await Host.ExecuteAndWaitAsync(async () =>
        {
            result = await Host.Scenario(s =>
            {
                s.WithKey(TestKeys.Admin);
                s.Post.Json(DefinitionsSetup.Webhook() with { TriggerExpression = "LEFT(h_name) = 'G' AND h_email NOT NULL" }).ToUrl("/webhooks");
                s.StatusCodeShouldBe(HttpStatusCode.Created);
                s.Header("Location").SingleValueShouldEqual("/webhooks/notify-crm");
                s.Header("ETag").SingleValueShouldEqual("\"1\"");
            });
        });

        var webhook = (await result.ReadAsJsonAsync<WebhookDefinition>())!;
        webhook.Name.ShouldBe("notify-crm");
        webhook.Application.ShouldBe(DefinitionsSetup.Application);
        webhook.EventSource.ShouldBe(DefinitionsSetup.EventSource);
        webhook.Enabled.ShouldBeTrue();
        webhook.PayloadFormat.ShouldBe("json");
        webhook.PostMode.ShouldBe("async");
        webhook.TriggerExpression.ShouldBe("LEFT(h_name) = 'G' AND h_email NOT NULL");
        webhook.Version.ShouldBe(1);

        var announced = tracked.AllRecordsInOrder().Select(r => r.Message).OfType<WebhookChanged>().Select(m => m.Webhook).Distinct().ShouldHaveSingleItem();
        announced.ShouldBe(webhook);
    }

    [Fact]
    public async Task every_kind_of_change_announces_the_whole_new_definition_through_the_outbox()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        await Host.ExecuteAndWaitAsync(() => Fixture.DefinedWebhook());

        async Task<WebhookDefinition> Announced(Func<Task> change)
        {
            var tracked = await Host.ExecuteAndWaitAsync(change);
            return tracked.AllRecordsInOrder().Select(r => r.Message).OfType<WebhookChanged>().Select(m => m.Webhook).Distinct().ShouldHaveSingleItem();
        }

        (await Announced(() => admin.UpdateWebhook("notify-crm", DefinitionsSetup.Webhook() with { PostMode = PostModes.SyncCritical })))
            .ShouldSatisfyAllConditions(w => w.Version.ShouldBe(2), w => w.PostMode.ShouldBe(PostModes.SyncCritical));
        (await Announced(() => admin.DisableWebhook("notify-crm"))).ShouldSatisfyAllConditions(w => w.Version.ShouldBe(3), w => w.Enabled.ShouldBeFalse());
        (await Announced(() => admin.EnableWebhook("notify-crm"))).ShouldSatisfyAllConditions(w => w.Version.ShouldBe(4), w => w.Enabled.ShouldBeTrue());
        (await Announced(() => admin.RotateSigningSecret("notify-crm"))).Version.ShouldBe(5);

        var nothing = await Host.ExecuteAndWaitAsync(() => admin.EnableWebhook("notify-crm"));
        nothing.AllRecordsInOrder().Select(r => r.Message).OfType<WebhookChanged>().ShouldBeEmpty("an unchanged webhook announces nothing");
    }

    [Fact]
    public async Task webhooks_are_listed_by_name_and_filtered()
    {
        await Host.RegisteredEventSource("crm", "deal-won");
        await Fixture.DefinedWebhook(DefinitionsSetup.Webhook("c-hook"));
        await Fixture.DefinedWebhook(DefinitionsSetup.Webhook("a-hook") with { Enabled = false });
        await Fixture.DefinedWebhook(DefinitionsSetup.Webhook("b-hook") with { Application = "crm", EventSource = "deal-won" });
        var auditor = Fixture.Client(TestKeys.Auditor);

        (await auditor.ListWebhooks()).Items.Select(w => w.Name).ShouldBe(["a-hook", "b-hook", "c-hook"]);
        (await auditor.ListWebhooks(application: "crm")).Items.Select(w => w.Name).ShouldBe(["b-hook"]);
        (await auditor.ListWebhooks(eventSource: DefinitionsSetup.EventSource)).Items.Select(w => w.Name).ShouldBe(["a-hook", "c-hook"]);
        (await auditor.ListWebhooks(enabled: false)).Items.Select(w => w.Name).ShouldBe(["a-hook"]);
        (await auditor.ListWebhooks(enabled: true, application: DefinitionsSetup.Application)).Items.Select(w => w.Name).ShouldBe(["c-hook"]);

        var first = await auditor.ListWebhooks(limit: 2);
        first.Items.Select(w => w.Name).ShouldBe(["a-hook", "b-hook"]);
        (await auditor.ListWebhooks(after: first.Next, limit: 2)).Items.Select(w => w.Name).ShouldBe(["c-hook"]);
    }

    [Fact]
    public async Task every_change_is_in_the_history_and_as_of_rebuilds_each_past_version()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        await Fixture.DefinedWebhook();
        var afterDefine = DateTimeOffset.UtcNow;
        await Task.Delay(50);
        await admin.UpdateWebhook("notify-crm", DefinitionsSetup.Webhook() with { Url = "https://crm.example.com/v2", PostMode = PostModes.Sync });
        var afterUpdate = DateTimeOffset.UtcNow;
        await Task.Delay(50);
        await admin.DisableWebhook("notify-crm", reason: "maintenance window");
        var afterDisable = DateTimeOffset.UtcNow;
        await Task.Delay(50);
        await admin.EnableWebhook("notify-crm");

        var history = (await Fixture.Client(TestKeys.Auditor).GetWebhookHistory("notify-crm")).Items;
        history.Select(h => (h.Version, h.EventType)).ShouldBe([(1L, "defined"), (2, "updated"), (3, "disabled"), (4, "enabled")]);
        history.ShouldAllBe(h => h.Actor == "admin");
        history[0].Changes.ShouldContain(new FieldChange("url", null, "https://crm.example.com/hooks/contact"));
        history[1].Changes.ShouldBe(
        [
            new FieldChange("url", "https://crm.example.com/hooks/contact", "https://crm.example.com/v2"),
            new FieldChange("postMode", "async", "sync"),
        ]);
        history[2].Reason.ShouldBe("maintenance window");

        var auditor = Fixture.Client(TestKeys.Auditor);
        (await auditor.GetWebhook("notify-crm", afterDefine)).ShouldSatisfyAllConditions(
            w => w.Version.ShouldBe(1), w => w.Url.ShouldBe("https://crm.example.com/hooks/contact"), w => w.PostMode.ShouldBe("async"));
        (await auditor.GetWebhook("notify-crm", afterUpdate)).ShouldSatisfyAllConditions(
            w => w.Version.ShouldBe(2), w => w.Url.ShouldBe("https://crm.example.com/v2"), w => w.Enabled.ShouldBeTrue());
        (await auditor.GetWebhook("notify-crm", afterDisable)).ShouldSatisfyAllConditions(
            w => w.Version.ShouldBe(3), w => w.Enabled.ShouldBeFalse(), w => w.DisabledReason.ShouldBe("maintenance window"));
        (await auditor.GetWebhook("notify-crm")).ShouldSatisfyAllConditions(w => w.Version.ShouldBe(4), w => w.Enabled.ShouldBeTrue());
    }

    [Fact]
    public async Task enabling_or_disabling_twice_changes_nothing_the_second_time()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        await Fixture.DefinedWebhook();

        (await admin.EnableWebhook("notify-crm")).Version.ShouldBe(1);
        (await admin.DisableWebhook("notify-crm")).Version.ShouldBe(2);
        (await admin.DisableWebhook("notify-crm")).Version.ShouldBe(2);
        (await admin.UpdateWebhook("notify-crm", DefinitionsSetup.Webhook() with { Enabled = false })).Version.ShouldBe(2);
    }

    [Fact]
    public async Task the_system_disables_a_webhook_after_a_410_with_the_reason_in_its_history()
    {
        var webhook = await Fixture.DefinedWebhook();

        var tracked = await Host.InvokeMessageAndWaitAsync(new DisableWebhook(webhook.Id, "the target answered 410 Gone"));

        tracked.Sent.MessagesOf<WebhookChanged>().Distinct().Single().Webhook.Enabled.ShouldBeFalse();
        var last = (await Fixture.Client(TestKeys.Auditor).GetWebhookHistory("notify-crm")).Items[^1];
        (last.EventType, last.Actor, last.Reason).ShouldBe(("disabled", "system", "the target answered 410 Gone"));
    }

    [Fact]
    public async Task a_rename_moves_the_webhook_and_a_deleted_name_can_be_reused_by_a_new_webhook()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        var original = await Fixture.DefinedWebhook();

        var renamed = await admin.UpdateWebhook("notify-crm", DefinitionsSetup.Webhook("notify-crm-v2"));
        renamed.Id.ShouldBe(original.Id);
        (await Should.ThrowAsync<ApiException>(() => admin.GetWebhook("notify-crm"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var deletion = await Host.ExecuteAndWaitAsync(async () => await admin.DeleteWebhook("notify-crm-v2"));
        deletion.AllRecordsInOrder().Select(r => r.Message).OfType<WebhookRemoved>().Select(m => m.WebhookId).Distinct().ShouldBe([original.Id]);
        (await Should.ThrowAsync<ApiException>(() => admin.GetWebhook("notify-crm-v2"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var reborn = await Fixture.DefinedWebhook(DefinitionsSetup.Webhook("notify-crm-v2"));
        reborn.Id.ShouldNotBe(original.Id);
        reborn.Version.ShouldBe(1);
    }

    [Fact]
    public async Task a_stale_if_match_is_refused_with_412_and_a_current_one_goes_through()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        await Fixture.DefinedWebhook();
        await admin.UpdateWebhook("notify-crm", DefinitionsSetup.Webhook() with { Description = "second" }, ifMatch: "\"1\"");

        var stale = await Should.ThrowAsync<ApiException>(
            () => admin.UpdateWebhook("notify-crm", DefinitionsSetup.Webhook() with { Description = "lost?" }, ifMatch: "\"1\""));
        stale.StatusCode.ShouldBe(HttpStatusCode.PreconditionFailed);
        (await Should.ThrowAsync<ApiException>(() => admin.DisableWebhook("notify-crm", ifMatch: "1"))).StatusCode.ShouldBe(HttpStatusCode.PreconditionFailed);
        (await Should.ThrowAsync<ApiException>(() => admin.DeleteWebhook("notify-crm", ifMatch: "\"7\""))).StatusCode.ShouldBe(HttpStatusCode.PreconditionFailed);

        (await admin.GetWebhook("notify-crm")).Description.ShouldBe("second");
        (await admin.DisableWebhook("notify-crm", ifMatch: "\"2\"")).Version.ShouldBe(3);
    }

    [Fact]
    public async Task concurrent_updates_never_silently_lose_one_of_them()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        await Fixture.DefinedWebhook();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await admin.UpdateWebhook("notify-crm", DefinitionsSetup.Webhook() with { Description = $"writer {i}" });
                return HttpStatusCode.OK;
            }
            catch (ApiException e)
            {
                return e.StatusCode;
            }
        }));

        outcomes.ShouldAllBe(code => code == HttpStatusCode.OK || code == HttpStatusCode.Conflict);
        var applied = outcomes.Count(code => code == HttpStatusCode.OK);
        var history = (await admin.GetWebhookHistory("notify-crm")).Items;
        history.Count(h => h.EventType == "updated").ShouldBe(applied, "every update answered 200 is in the history, and no other");
        (await admin.GetWebhook("notify-crm")).Version.ShouldBe(1 + applied);

        var guarded = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            try
            {
                await admin.UpdateWebhook("notify-crm", DefinitionsSetup.Webhook() with { Description = $"guarded {i}" }, ifMatch: $"\"{1 + applied}\"");
                return HttpStatusCode.OK;
            }
            catch (ApiException e)
            {
                return e.StatusCode;
            }
        }));
        guarded.Count(code => code == HttpStatusCode.OK).ShouldBe(1);
        guarded.ShouldAllBe(code => code == HttpStatusCode.OK || code == HttpStatusCode.PreconditionFailed || code == HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task a_webhook_with_a_keysafe_key_holds_the_key_against_deletion()
    {
        var key = await Fixture.CreatedKey();
        await Host.ExecuteAndWaitAsync(async () =>
            await Fixture.DefinedWebhook(DefinitionsSetup.Webhook() with { KeySafeKeyId = key.Id }));

        var refused = await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id));
        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        refused.Content!.ShouldContain("notify-crm");

        await Host.ExecuteAndWaitAsync(async () =>
            await Fixture.Client(TestKeys.Admin).UpdateWebhook("notify-crm", DefinitionsSetup.Webhook() with { KeySafeKeyId = null }));
        await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id);
    }

    [Fact]
    public async Task the_signing_secret_is_standard_webhooks_shaped_and_rotation_keeps_the_old_one_for_the_grace_period()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        await Fixture.DefinedWebhook();

        var first = await admin.GetSigningSecret("notify-crm");
        first.Secret.ShouldStartWith("whsec_");
        Convert.FromBase64String(first.Secret["whsec_".Length..]).Length.ShouldBe(32);
        first.PreviousSecret.ShouldBeNull();
        (await admin.GetSigningSecret("notify-crm")).Secret.ShouldBe(first.Secret);

        var before = DateTimeOffset.UtcNow;
        var rotated = await admin.RotateSigningSecret("notify-crm");
        rotated.Secret.ShouldNotBe(first.Secret);
        rotated.PreviousSecret.ShouldBe(first.Secret);
        rotated.PreviousValidUntil!.Value.ShouldBeInRange(before.AddHours(24).AddSeconds(-5), DateTimeOffset.UtcNow.AddHours(24).AddSeconds(5));
        (await admin.GetSigningSecret("notify-crm")).ShouldBe(rotated);

        var history = (await admin.GetWebhookHistory("notify-crm")).Items;
        history[^1].EventType.ShouldBe("signingSecretRotated");
        await using var session = Host.Services.GetRequiredService<Marten.IDocumentStore>().QuerySession();
        var events = await Marten.QueryableExtensions.ToListAsync(session.Events.QueryAllRawEvents());
        var stored = string.Join('\n', events.Select(e => System.Text.Json.JsonSerializer.Serialize(e.Data)));
        stored.ShouldNotContain(first.Secret["whsec_".Length..]);
        stored.ShouldNotContain(rotated.Secret["whsec_".Length..]);
    }

    [Fact]
    public async Task an_auditor_reads_definitions_and_history_but_not_signing_secrets_and_changes_nothing()
    {
        await Fixture.DefinedWebhook();
        var auditor = Fixture.Client(TestKeys.Auditor);

        (await auditor.GetWebhook("notify-crm")).Name.ShouldBe("notify-crm");
        (await Should.ThrowAsync<ApiException>(() => auditor.GetSigningSecret("notify-crm"))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Should.ThrowAsync<ApiException>(() => auditor.DisableWebhook("notify-crm"))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Should.ThrowAsync<ApiException>(() => auditor.DefineWebhook(DefinitionsSetup.Webhook("x")))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var publisher = Fixture.Client(TestKeys.Publisher);
        (await Should.ThrowAsync<ApiException>(() => publisher.GetWebhook("notify-crm"))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Should.ThrowAsync<ApiException>(() => publisher.DeleteWebhook("notify-crm"))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await auditor.GetWebhook("notify-crm")).Version.ShouldBe(1);
    }
}
