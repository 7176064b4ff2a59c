using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Routing;

namespace Webhooks.Tests.Dispatch;

public sealed class DispatchCatalogTests
{
    private static WebhookDefinition Webhook(Guid id, long version) => new(
        id, "crm-sync", null, "crm", "contact-update", true, null, null, "https://example.com/hook", PayloadFormats.Json,
        PostModes.Async, null, version, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

    [Fact]
    public void a_notified_version_is_known_once_that_version_or_a_later_one_or_the_removal_is_applied()
    {
        var catalog = new DispatchCatalog();
        var id = Guid.NewGuid();
        catalog.Knows(id, 1).ShouldBeFalse("nothing applied yet: the node must load it");

        catalog.Apply(Webhook(id, 2));
        catalog.Knows(id, 1).ShouldBeTrue();
        catalog.Knows(id, 2).ShouldBeTrue("the node that applied it needs no reload");
        catalog.Knows(id, 3).ShouldBeFalse("a later change made elsewhere must be loaded");

        catalog.Remove(id, 4);
        catalog.Knows(id, 4).ShouldBeTrue();
        catalog.Knows(id, 5).ShouldBeFalse();
    }

    [Fact]
    public void an_older_version_never_replaces_a_newer_one()
    {
        var catalog = new DispatchCatalog();
        var id = Guid.NewGuid();
        catalog.Apply(Webhook(id, 3));
        catalog.Apply(Webhook(id, 2));
        catalog.Find(id)!.Definition.Version.ShouldBe(3);
        catalog.Routes("crm", "contact-update").ShouldHaveSingleItem();
    }

    [Fact]
    public void a_full_reload_forgets_what_the_database_no_longer_holds()
    {
        var catalog = new DispatchCatalog();
        var (kept, lost, gone) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        catalog.Apply(new EventSourceView("crm", "contact-update", "Contact", null, "update", null, null, "urn", 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
        catalog.Apply(new EventSourceView("erp", "order-update", "Order", null, "update", null, null, "urn", 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
        catalog.Apply(Webhook(kept, 1));
        catalog.Apply(Webhook(lost, 1));
        catalog.Remove(gone, 2);

        catalog.Retain(new HashSet<Guid> { kept }, new HashSet<(string, string)> { ("crm", "contact-update") });

        catalog.Routes("crm", "contact-update").Select(r => r.Definition.Id).ShouldBe([kept]);
        catalog.Find(lost).ShouldBeNull();
        catalog.Knows(gone, 1).ShouldBeFalse("the removal's tombstone went with the database");
        catalog.Source("erp", "order-update").ShouldBeNull();
        catalog.HasApplication("erp").ShouldBeFalse();
        catalog.HasApplication("crm").ShouldBeTrue();
    }
}
