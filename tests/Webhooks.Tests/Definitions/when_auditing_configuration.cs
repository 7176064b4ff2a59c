using System.Net;
using Refit;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Definitions;

public sealed class when_auditing_configuration(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task the_audit_log_lists_every_change_in_every_module_newest_first_with_its_actor()
    {
        await Fixture.Catalog();
        var key = await Fixture.CreatedKey("crm basic");
        await Fixture.DefinedWebhook(DefinitionsSetup.Webhook() with { KeySafeKeyId = key.Id });
        var middle = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        await Fixture.Client(TestKeys.Admin).DisableWebhook("notify-crm", reason: "maintenance");
        await Fixture.Client(TestKeys.KeySafe).RotateKeySecret(key.Id, new RotateKeySecret("u", "p"));

        var auditor = Fixture.Client(TestKeys.Auditor);
        await Fixture.AuditCaughtUp();
        var log = (await auditor.GetAuditLog()).Items;

        log.Select(e => (e.Module, e.Subject, e.Action, e.Actor)).ShouldBe(
        [
            ("keysafe", "key", "secretRotated", "keysafe"),
            ("definitions", "webhook", "disabled", "admin"),
            ("definitions", "webhook", "defined", "admin"),
            ("keysafe", "key", "created", "keysafe"),
            ("definitions", "eventSource", "registered", "admin"),
        ]);
        log[1].Reason.ShouldBe("maintenance");
        log[2].Name.ShouldBe("notify-crm");
        log[1].Name.ShouldBe("notify-crm", "a change whose event does not repeat the name is named from its stream");
        log[0].Name.ShouldBe("crm basic");
        (await auditor.GetAuditLog(moduleName: "keysafe")).Items.Select(e => e.Action).ShouldBe(["secretRotated", "created"]);
        (await auditor.GetAuditLog(subjectId: log[2].SubjectId)).Items.Select(e => e.Action).ShouldBe(["disabled", "defined"]);
        (await auditor.GetAuditLog(moduleName: "definitions", subjectId: key.Id)).Items.ShouldBeEmpty();
        log.ShouldBe(log.OrderByDescending(e => e.Sequence));
        (await auditor.GetAuditLog(from: middle)).Items.Count.ShouldBe(2);
        (await auditor.GetAuditLog(until: middle)).Items.Count.ShouldBe(3);

        var page = await auditor.GetAuditLog(limit: 2);
        page.Items.Count.ShouldBe(2);
        (await auditor.GetAuditLog(after: page.Next, limit: 10)).Items.Select(e => e.Sequence).ShouldBe(log.Skip(2).Select(e => e.Sequence));
    }

    [Fact]
    public async Task only_auditors_and_admins_read_it_and_bad_paging_is_a_400()
    {
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Publisher).GetAuditLog())).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.KeySafe).GetAuditLog())).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Admin).GetAuditLog(limit: 0))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Admin).GetAuditLog(after: "bm9wZQ"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var unknown = await Should.ThrowAsync<ValidationApiException>(() => Fixture.Client(TestKeys.Admin).GetAuditLog(moduleName: "dispatch"));
        unknown.Content!.Errors["module"].ShouldHaveSingleItem().ShouldContain("definitions, keysafe");
    }
}
