using System.Net;
using Alba;
using Microsoft.Extensions.DependencyInjection;
using Refit;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.KeySafe;

/// <summary>
/// KeySafe learns who holds a key from holds and releases its holders send through the outbox with their own
/// changes, and refuses to delete a key that is held.
/// </summary>
public sealed class when_keys_are_in_use(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task deleting_a_held_key_is_refused_naming_its_holders()
    {
        var key = await Fixture.CreatedKey();
        await Host.TrackActivity().PublishMessageAndWaitAsync(new HoldKey(key.Id, Guid.NewGuid(), "notify-crm", 1));
        await Host.TrackActivity().PublishMessageAndWaitAsync(new HoldKey(key.Id, Guid.NewGuid(), "audit-crm", 1));

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
    public async Task a_key_is_free_again_once_its_holders_release_it()
    {
        var key = await Fixture.CreatedKey("first");
        var other = await Fixture.CreatedKey("second");
        var removed = Guid.NewGuid();
        var moved = Guid.NewGuid();
        await Host.TrackActivity().PublishMessageAndWaitAsync(new HoldKey(key.Id, removed, "removed-later", 1));
        await Host.TrackActivity().PublishMessageAndWaitAsync(new HoldKey(key.Id, moved, "moved-later", 1));

        await Host.TrackActivity().PublishMessageAndWaitAsync(new ReleaseKey(key.Id, removed, 2));
        await Host.TrackActivity().PublishMessageAndWaitAsync(new ReleaseKey(key.Id, moved, 2));
        await Host.TrackActivity().PublishMessageAndWaitAsync(new HoldKey(other.Id, moved, "moved-later", 2));

        await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id);
        var inUse = await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.KeySafe).DeleteKey(other.Id));
        inUse.StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task an_older_hold_arriving_after_a_newer_release_changes_nothing()
    {
        var key = await Fixture.CreatedKey();
        var holder = Guid.NewGuid();
        await Host.TrackActivity().PublishMessageAndWaitAsync(new ReleaseKey(key.Id, holder, 2));
        await Host.TrackActivity().PublishMessageAndWaitAsync(new HoldKey(key.Id, holder, "w", 1));

        await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id);
    }

    [Fact]
    public async Task a_hold_for_a_key_deleted_meanwhile_is_refused_back_to_its_holder()
    {
        var key = await Fixture.CreatedKey();
        await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id);
        var holder = Guid.NewGuid();

        var tracked = await Host.TrackActivity().PublishMessageAndWaitAsync(new HoldKey(key.Id, holder, "too-late", 3));

        var refused = tracked.Sent.SingleMessage<KeyHoldRefused>();
        refused.ShouldBe(refused with { KeyId = key.Id, HolderId = holder, HolderVersion = 3 });
        refused.Reason.ShouldContain("deleted");
    }

    [Fact]
    public async Task the_usage_record_refuses_a_write_based_on_a_stale_read()
    {
        // The guarantee the races rest on: two writers that read the same usage cannot both write it.
        var key = await Fixture.CreatedKey();
        var store = Host.Services.GetRequiredService<Marten.IDocumentStore>();
        await using var first = store.LightweightSession();
        await using var second = store.LightweightSession();
        var a = await first.LoadAsync<Webhooks.KeySafe.Usage.KeyUsage>(key.Id);
        var b = await second.LoadAsync<Webhooks.KeySafe.Usage.KeyUsage>(key.Id);

        a!.KeyDeleted = true;
        first.Store(a);
        await first.SaveChangesAsync();
        b!.Apply(Guid.NewGuid(), "late", holds: true, 1, DateTimeOffset.UtcNow);
        second.Store(b);

        await Should.ThrowAsync<JasperFx.ConcurrencyException>(() => second.SaveChangesAsync());
    }
}
