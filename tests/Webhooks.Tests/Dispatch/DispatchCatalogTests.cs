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
}
