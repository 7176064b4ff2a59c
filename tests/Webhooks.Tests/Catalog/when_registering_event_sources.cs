using System.Net;
using System.Text.Json.Nodes;
using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Refit;
using Webhooks.Definitions.Catalog;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Catalog;

public sealed class when_registering_event_sources(AppFixture fixture) : AppTest(fixture)
{
    private const string App = "com.hornbill.servicemanager";

    [Fact]
    public async Task a_new_event_source_is_created_with_its_location_and_urn()
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Put.Json(new
            {
                entity = "Contact",
                table = "h_sys_contacts",
                @event = "update",
                description = "A contact changes",
                sampleRecord = new { h_pk_id = "103", h_jobtitle = "test" },
            }).ToUrl($"/applications/{App}/event-sources/contact-update");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
            s.Header("Location").SingleValueShouldEqual($"/applications/{App}/event-sources/contact-update");
        });

        var view = (await result.ReadAsJsonAsync<EventSourceView>())!;
        view.Application.ShouldBe(App);
        view.Name.ShouldBe("contact-update");
        view.Entity.ShouldBe("Contact");
        view.Table.ShouldBe("h_sys_contacts");
        view.Event.ShouldBe("update");
        view.EventSourceUrn.ShouldBe("urn:webhook:entity:h_sys_contacts:update");
        view.SampleRecord!["h_pk_id"]!.GetValue<string>().ShouldBe("103");
        view.Version.ShouldBe(1);
    }

    [Fact]
    public async Task the_urn_names_the_entity_when_no_table_is_given()
    {
        var view = await Host.RegisteredEventSource(App, "contact-created", entity: "Contact", @event: EntityEvents.Created);
        view.EventSourceUrn.ShouldBe("urn:webhook:entity:Contact:created");
    }

    [Fact]
    public async Task repeating_the_same_registration_changes_nothing()
    {
        await Host.RegisteredEventSource(App, "contact-update");

        var again = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Put.Json(new RegisterEventSource("Contact", null, EntityEvents.Update)).ToUrl($"/applications/{App}/event-sources/contact-update");
            s.StatusCodeShouldBe(HttpStatusCode.OK);
        });

        (await again.ReadAsJsonAsync<EventSourceView>())!.Version.ShouldBe(1);
        var events = await StreamOf(App, "contact-update");
        events.Count.ShouldBe(1);
    }

    [Fact]
    public async Task a_change_is_kept_as_an_event_naming_the_changed_fields_and_the_actor()
    {
        await Host.RegisteredEventSource(App, "contact-update");

        var changed = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.Admin);
            s.Put.Json(new RegisterEventSource("Contact", null, EntityEvents.Updated, "now post-action"))
                .ToUrl($"/applications/{App}/event-sources/contact-update");
            s.StatusCodeShouldBe(HttpStatusCode.OK);
        });

        var view = (await changed.ReadAsJsonAsync<EventSourceView>())!;
        view.Version.ShouldBe(2);
        view.Event.ShouldBe("updated");
        view.Description.ShouldBe("now post-action");

        var events = await StreamOf(App, "contact-update");
        events.Select(e => e.GetType()).ShouldBe([typeof(EventSourceRegistered), typeof(EventSourceUpdated)]);
        var change = events.OfType<EventSourceUpdated>().Single();
        change.ChangedFields.ShouldBe(["event", "description"]);
        change.Actor.ShouldBe("admin");
        events.OfType<EventSourceRegistered>().Single().Actor.ShouldBe("admin");

        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var metadata = await session.Events.FetchStreamAsync(EventSource.StreamId(App, "contact-update"));
        metadata.ShouldAllBe(e => e.UserName == "admin");
    }

    [Fact]
    public async Task the_catalog_lists_applications_and_their_event_sources_by_name()
    {
        await Host.RegisteredEventSource("zeta", "b");
        await Host.RegisteredEventSource("zeta", "a");
        await Host.RegisteredEventSource("alpha", "only");

        var client = Fixture.Client(TestKeys.Auditor);
        var applications = await client.ListApplications();
        applications.Items.Select(a => a.Name).ShouldBe(["alpha", "zeta"]);
        applications.Items[1].EventSources.ShouldBe(["a", "b"]);
        applications.Next.ShouldBeNull();

        var sources = await client.ListEventSources("zeta");
        sources.Items.Select(s => s.Name).ShouldBe(["a", "b"]);
    }

    [Fact]
    public async Task lists_page_with_a_cursor()
    {
        foreach (var name in new[] { "e1", "e2", "e3" })
        {
            await Host.RegisteredEventSource("paged", name);
            await Host.RegisteredEventSource($"app-{name}", name);
        }

        var client = Fixture.Client(TestKeys.Admin);
        var first = await client.ListEventSources("paged", limit: 2);
        first.Items.Select(s => s.Name).ShouldBe(["e1", "e2"]);
        first.Next.ShouldNotBeNull();
        var second = await client.ListEventSources("paged", after: first.Next, limit: 2);
        second.Items.Select(s => s.Name).ShouldBe(["e3"]);
        second.Next.ShouldBeNull();

        var apps = await client.ListApplications(limit: 3);
        apps.Items.Select(a => a.Name).ShouldBe(["app-e1", "app-e2", "app-e3"]);
        var rest = await client.ListApplications(after: apps.Next, limit: 3);
        rest.Items.Select(a => a.Name).ShouldBe(["paged"]);
        rest.Next.ShouldBeNull();
    }

    [Fact]
    public async Task the_sdk_registers_and_reads_event_sources()
    {
        var client = Fixture.Client(TestKeys.Admin);
        var sample = new JsonObject { ["h_pk_id"] = "1", ["nested"] = new JsonObject { ["x"] = 1 } };

        var created = await client.RegisterEventSource(App, "via-sdk", new RegisterEventSource("Contact", null, EntityEvents.Create, "d", sample));
        created.Version.ShouldBe(1);
        created.SampleRecord!["nested"]!["x"]!.GetValue<int>().ShouldBe(1);

        var listed = await client.ListEventSources(App);
        listed.Items.Single().Name.ShouldBe("via-sdk");
    }

    [Fact]
    public async Task the_sdk_surfaces_problems_with_their_field_errors()
    {
        var client = Fixture.Client(TestKeys.Admin);
        var error = await Should.ThrowAsync<ValidationApiException>(
            () => client.RegisterEventSource(App, "bad name", new RegisterEventSource(null, null, "sometimes")));

        error.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        error.Content!.Errors.Keys.ShouldBe(["name", "entity", "event"], ignoreOrder: true);
    }

    [Fact]
    public async Task concurrent_first_registrations_register_once_and_never_fail_with_a_server_error()
    {
        var client = Fixture.Client(TestKeys.Admin);
        var attempts = Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await client.RegisterEventSource(App, "raced", new RegisterEventSource("Contact", null, EntityEvents.Update, $"writer {i}"));
                return HttpStatusCode.OK;
            }
            catch (ApiException e)
            {
                return e.StatusCode;
            }
        });

        var outcomes = await Task.WhenAll(attempts);

        outcomes.ShouldAllBe(code => code == HttpStatusCode.OK || code == HttpStatusCode.Conflict);
        var events = await StreamOf(App, "raced");
        events.OfType<EventSourceRegistered>().Count().ShouldBe(1);
        var view = (await client.ListEventSources(App)).Items.Single();
        view.Version.ShouldBe(events.Count);
    }

    private async Task<List<object>> StreamOf(string application, string name)
    {
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var events = await session.Events.FetchStreamAsync(EventSource.StreamId(application, name));
        return events.Select(e => e.Data).ToList();
    }
}
