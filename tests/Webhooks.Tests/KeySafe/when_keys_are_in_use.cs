using System.Net;
using Alba;
using Microsoft.Extensions.DependencyInjection;
using Refit;
using Webhooks.Definitions.Contracts;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine;
using Wolverine.Tracking;

namespace Webhooks.Tests.KeySafe;

/// <summary>KeySafe learns which webhooks use a key from Definitions' messages, and refuses to delete a key in use.</summary>
public sealed class when_keys_are_in_use(AppFixture fixture) : AppTest(fixture)
{
    private static WebhookChanged Changed(Guid id, string name, long version, Guid? keyId) => new(new WebhookDefinition(
        id, name, null, "crm", "contact-update", true, null, keyId, "https://example.com/hook", PayloadFormats.Json,
        PostModes.Async, null, version, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));

    [Fact]
    public async Task deleting_a_key_a_webhook_uses_is_refused_naming_the_webhooks()
    {
        var key = await Fixture.CreatedKey();
        await Host.TrackActivity().PublishMessageAndWaitAsync(Changed(Guid.NewGuid(), "notify-crm", 1, key.Id));
        await Host.TrackActivity().PublishMessageAndWaitAsync(Changed(Guid.NewGuid(), "audit-crm", 1, key.Id));

        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.KeySafe);
            s.Delete.Url($"/keysafe/keys/{key.Id}");
            s.StatusCodeShouldBe(HttpStatusCode.Conflict);
        });

        var problem = await result.Problem();
        problem.GetProperty("detail").GetString()!.ShouldContain("audit-crm, notify-crm");
        problem.GetProperty("webhooks").EnumerateArray().Select(w => w.GetString()).ShouldBe(["audit-crm", "notify-crm"]);
        (await Fixture.Client(TestKeys.KeySafe).GetKey(key.Id)).Version.ShouldBe(1);
    }

    [Fact]
    public async Task a_key_is_free_again_once_its_webhooks_are_removed_or_moved_to_another_key()
    {
        var key = await Fixture.CreatedKey("first");
        var other = await Fixture.CreatedKey("second");
        var removed = Guid.NewGuid();
        var moved = Guid.NewGuid();
        await Host.TrackActivity().PublishMessageAndWaitAsync(Changed(removed, "removed-later", 1, key.Id));
        await Host.TrackActivity().PublishMessageAndWaitAsync(Changed(moved, "moved-later", 1, key.Id));

        await Host.TrackActivity().PublishMessageAndWaitAsync(new WebhookRemoved(removed, "removed-later", 2));
        await Host.TrackActivity().PublishMessageAndWaitAsync(Changed(moved, "moved-later", 2, other.Id));

        await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id);
        var inUse = await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.KeySafe).DeleteKey(other.Id));
        inUse.StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task an_older_webhook_message_arriving_late_changes_nothing()
    {
        var key = await Fixture.CreatedKey();
        var webhook = Guid.NewGuid();
        await Host.TrackActivity().PublishMessageAndWaitAsync(Changed(webhook, "w", 2, null));
        await Host.TrackActivity().PublishMessageAndWaitAsync(Changed(webhook, "w", 1, key.Id));

        await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id);
    }

    [Fact]
    public async Task a_reservation_holds_the_key_until_the_webhook_confirms_or_leaves()
    {
        var key = await Fixture.CreatedKey();
        var bus = Host.MessageBus();
        var webhook = Guid.NewGuid();

        (await bus.InvokeAsync<KeyReservation>(new ReserveKey(key.Id, webhook, "being-created"))).Reserved.ShouldBeTrue();
        var refused = await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id));
        refused.Content!.ShouldContain("being-created");

        await Host.TrackActivity().PublishMessageAndWaitAsync(new WebhookRemoved(webhook, "being-created", 1));
        await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id);

        var late = await bus.InvokeAsync<KeyReservation>(new ReserveKey(key.Id, Guid.NewGuid(), "too-late"));
        late.Reserved.ShouldBeFalse();
        late.Problem!.ShouldContain(key.Id.ToString());
    }

    [Fact]
    public async Task the_usage_record_refuses_a_write_based_on_a_stale_read()
    {
        // The guarantee the race below rests on: two writers that read the same usage cannot both write it.
        var key = await Fixture.CreatedKey();
        var store = Host.Services.GetRequiredService<Marten.IDocumentStore>();
        await using var first = store.LightweightSession();
        await using var second = store.LightweightSession();
        var a = await first.LoadAsync<Webhooks.KeySafe.Usage.KeyUsage>(key.Id);
        var b = await second.LoadAsync<Webhooks.KeySafe.Usage.KeyUsage>(key.Id);

        a!.KeyDeleted = true;
        first.Store(a);
        await first.SaveChangesAsync();
        b!.Webhooks[Guid.NewGuid()] = new("late", false, DateTimeOffset.UtcNow);
        second.Store(b);

        await Should.ThrowAsync<JasperFx.ConcurrencyException>(() => second.SaveChangesAsync());
    }

    [Fact]
    public async Task a_key_cannot_be_deleted_while_a_webhook_is_being_created_with_it_at_the_same_moment()
    {
        var bus = Host.MessageBus();
        var client = Fixture.Client(TestKeys.KeySafe);
        for (var round = 0; round < 12; round++)
        {
            var key = await Fixture.CreatedKey($"raced-{round}");
            var reserve = Task.Run(async () =>
            {
                try
                {
                    return (await bus.InvokeAsync<KeyReservation>(new ReserveKey(key.Id, Guid.NewGuid(), $"w{round}"))).Reserved;
                }
                catch (Exception e) when (e is JasperFx.ConcurrencyException or AggregateException)
                {
                    return false;
                }
            });
            var delete = Task.Run(async () =>
            {
                try
                {
                    await client.DeleteKey(key.Id);
                    return true;
                }
                catch (ApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
                {
                    return false;
                }
            });

            var (reserved, deleted) = (await reserve, await delete);
            (reserved && deleted).ShouldBeFalse($"round {round}: the key was both reserved for a webhook and deleted");
            (reserved || deleted).ShouldBeTrue($"round {round}: one of the two must win, or the race tested nothing");
        }
    }
}
