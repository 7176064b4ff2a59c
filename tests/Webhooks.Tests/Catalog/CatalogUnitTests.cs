using System.Text.Json.Nodes;
using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Catalog;
using Webhooks.Definitions.Contracts;

namespace Webhooks.Tests.Catalog;

public sealed class CatalogUnitTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void stream_ids_are_stable_name_based_uuids()
    {
        var id = EventSource.StreamId("crm", "contact-update");

        id.ShouldBe(EventSource.StreamId("crm", "contact-update"));
        id.ShouldNotBe(EventSource.StreamId("crm", "contact-updatE"));
        id.ShouldNotBe(EventSource.StreamId("crm/contact", "update"));
        id.ToString()[14].ShouldBe('5'); // RFC 9562 version 5
        "89ab".ShouldContain(id.ToString()[19]); // RFC 9562 variant
    }

    [Fact]
    public void a_first_registration_is_registered()
    {
        var decision = RegisterEventSourceEndpoint.Decide(
            null, Guid.NewGuid(), "crm", "c", new RegisterEventSource("Contact", "t", EntityEvents.Created, "d"), "ops", Now);

        var registered = decision.ShouldBeOfType<EventSourceRegistered>();
        registered.Table.ShouldBe("t");
        registered.Actor.ShouldBe("ops");
        registered.At.ShouldBe(Now);
    }

    [Fact]
    public void an_identical_registration_decides_nothing_and_a_different_one_names_what_changed()
    {
        var sample = new JsonObject { ["a"] = 1 };
        var current = EventSource.Create(new EventSourceRegistered(
            Guid.NewGuid(), "crm", "c", "Contact", null, EntityEvents.Update, null, sample, "ops", Now));

        RegisterEventSourceEndpoint.Decide(
            current, current.Id, "crm", "c", new RegisterEventSource("Contact", null, EntityEvents.Update, null, new JsonObject { ["a"] = 1 }), "ops", Now)
            .ShouldBeNull();

        var changed = RegisterEventSourceEndpoint.Decide(
            current, current.Id, "crm", "c", new RegisterEventSource("Person", "t", EntityEvents.Update, null, new JsonObject { ["a"] = 2 }), "ops", Now)
            .ShouldBeOfType<EventSourceUpdated>();
        changed.ChangedFields.ShouldBe(["entity", "table", "sampleRecord"]);

        var next = current.Apply(changed);
        next.Version.ShouldBe(2);
        next.Entity.ShouldBe("Person");
        current.Entity.ShouldBe("Contact");
    }

    [Theory]
    [InlineData("com.hornbill.servicemanager", null)]
    [InlineData("A_b-9", null)]
    [InlineData("", "is required")]
    [InlineData("a b", "no spaces")]
    [InlineData("a:b", "no spaces")]
    [InlineData("é", "no spaces")]
    public void names_allow_letters_digits_dots_underscores_and_dashes(string name, string? problem)
    {
        if (problem is null)
        {
            Names.Problem(name).ShouldBeNull();
        }
        else
        {
            Names.Problem(name)!.ShouldContain(problem);
        }
    }

    [Fact]
    public void cursors_round_trip_and_reject_what_was_not_handed_out()
    {
        Cursor.TryDecode(Cursor.Encode("zeta/é"), out var key).ShouldBeTrue();
        key.ShouldBe("zeta/é");
        Cursor.TryDecode("%%", out _).ShouldBeFalse();
        Cursor.TryDecode(null, out var none).ShouldBeTrue();
        none.ShouldBeNull();
    }
}
