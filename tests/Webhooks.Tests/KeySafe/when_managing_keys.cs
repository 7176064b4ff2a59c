using System.Net;
using Alba;
using Microsoft.Extensions.DependencyInjection;
using Refit;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine;
using Wolverine.Tracking;

namespace Webhooks.Tests.KeySafe;

public sealed class when_managing_keys(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task a_created_key_is_answered_with_its_location_and_without_its_password()
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.KeySafe);
            s.Post.Json(new { name = "ServiceNow basic", type = "httpBasic", description = "outbound", username = "svc", password = "pw-never-shown" })
                .ToUrl("/keysafe/keys");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });

        var body = await result.ReadAsTextAsync();
        body.ShouldNotContain("pw-never-shown");
        body.ShouldNotContain("password", Case.Insensitive);
        var key = (await result.ReadAsJsonAsync<KeyView>())!;
        result.Context.Response.Headers.Location.ToString().ShouldBe($"/keysafe/keys/{key.Id}");
        key.Name.ShouldBe("ServiceNow basic");
        key.Type.ShouldBe(KeyTypes.HttpBasic);
        key.Username.ShouldBe("svc");
        key.Description.ShouldBe("outbound");
        key.Version.ShouldBe(1);
    }

    [Fact]
    public async Task keys_are_read_listed_renamed_rotated_and_deleted_with_every_change_in_their_history()
    {
        var client = Fixture.Client(TestKeys.KeySafe);
        var key = await Fixture.CreatedKey("b-key");
        await Fixture.CreatedKey("a-key");

        (await client.GetKey(key.Id)).Name.ShouldBe("b-key");
        (await client.ListKeys()).Items.Select(k => k.Name).ShouldBe(["a-key", "b-key"]);

        var renamed = await client.UpdateKey(key.Id, new UpdateKey("c-key", "now described"));
        renamed.Version.ShouldBe(2);
        renamed.Name.ShouldBe("c-key");
        renamed.Description.ShouldBe("now described");

        var rotated = await client.RotateKeySecret(key.Id, new RotateKeySecret("new-user", "new-pw"));
        rotated.Version.ShouldBe(3);
        rotated.Username.ShouldBe("new-user");

        await client.DeleteKey(key.Id);
        var gone = await Should.ThrowAsync<ApiException>(() => client.GetKey(key.Id));
        gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.ListKeys()).Items.Select(k => k.Name).ShouldBe(["a-key"]);

        var history = await Fixture.Client(TestKeys.Auditor).GetKeyHistory(key.Id);
        history.Items.Select(c => c.EventType).ShouldBe(["created", "detailsChanged", "secretRotated", "deleted"]);
        history.Items.Select(c => c.Version).ShouldBe([1L, 2, 3, 4]);
        history.Items.ShouldAllBe(c => c.Actor == "keysafe");
        history.Items[1].Changed.ShouldBe(["name", "description"]);
        history.Items[2].Changed.ShouldBe(["username", "secret"]);

        var page = await client.GetKeyHistory(key.Id, limit: 3);
        page.Items.Count.ShouldBe(3);
        (await client.GetKeyHistory(key.Id, after: page.Next, limit: 3)).Items.Single().EventType.ShouldBe("deleted");
    }

    [Fact]
    public async Task an_unchanged_update_records_nothing_and_an_empty_description_removes_it()
    {
        var client = Fixture.Client(TestKeys.KeySafe);
        var key = await client.CreateKey(new CreateKey("k", KeyTypes.HttpBasic, "d", "u", "p"));

        (await client.UpdateKey(key.Id, new UpdateKey("k", null))).Version.ShouldBe(1);
        var cleared = await client.UpdateKey(key.Id, new UpdateKey(null, ""));
        cleared.Description.ShouldBeNull();
        cleared.Version.ShouldBe(2);
    }

    /// <summary>
    /// A credential's shown fields (where and how the secret goes) change only with a rotation: a PATCH that sends one
    /// is refused naming it, not half-applied with the field silently ignored; so is any field PATCH does not take.
    /// </summary>
    [Fact]
    public async Task a_patch_with_a_credentials_field_is_refused_naming_it_and_changes_nothing()
    {
        var client = Fixture.Client(TestKeys.KeySafe);
        var key = await client.CreateKey(new CreateKey(
            "idp", KeyTypes.OAuth2ClientCredentials, null, null, null, TokenUrl: "https://idp.example.com/token", ClientId: "crm", ClientSecret: "s3cret"));

        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.KeySafe);
            s.Patch.Json(new { name = "idp-renamed", tokenUrl = "https://elsewhere.example.net/token", colour = "blue" }).ToUrl($"/keysafe/keys/{key.Id}");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });

        var problem = await result.Problem();
        problem.FieldErrors("tokenUrl").Single().ShouldStartWith("tokenUrl changes only with a rotation (PUT /keysafe/keys/{id}/secret");
        problem.FieldErrors("colour").Single().ShouldBe("colour is not a field of a key's details: send name, description or allowedOrigins.");
        var unchanged = await client.GetKey(key.Id);
        (unchanged.Name, unchanged.TokenUrl, unchanged.Version).ShouldBe(("idp", "https://idp.example.com/token", 1L));
    }

    [Fact]
    public async Task names_are_unique_whatever_their_case()
    {
        await Fixture.CreatedKey("Shared Name");
        var other = await Fixture.CreatedKey("Other");
        var client = Fixture.Client(TestKeys.KeySafe);

        var duplicate = await Should.ThrowAsync<ApiException>(() => Fixture.CreatedKey("shared name"));
        duplicate.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var rename = await Should.ThrowAsync<ApiException>(() => client.UpdateKey(other.Id, new UpdateKey("SHARED NAME", null)));
        rename.StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task other_modules_resolve_the_credential_in_memory_and_see_rotations_at_once()
    {
        var key = await Fixture.CreatedKey(username: "u1", password: "p1");
        var bus = Host.MessageBus();

        var description = await bus.InvokeAsync<KeyDescription>(new DescribeKey(key.Id));
        description.ShouldBe(new KeyDescription(key.Id, true, key.Name, KeyTypes.HttpBasic, description.AllowedOrigins));
        description.AllowedOrigins.ShouldBeEmpty();
        var credential = await bus.InvokeAsync<Credential>(new ResolveCredential(key.Id));
        (credential.Username, credential.Password).ShouldBe(("u1", "p1"));
        credential.ToString().ShouldNotContain("p1");

        await Fixture.Client(TestKeys.KeySafe).RotateKeySecret(key.Id, new RotateKeySecret("u2", "p2"));
        credential = await bus.InvokeAsync<Credential>(new ResolveCredential(key.Id));
        (credential.Username, credential.Password).ShouldBe(("u2", "p2"));

        var unknown = Guid.NewGuid();
        (await bus.InvokeAsync<KeyDescription>(new DescribeKey(unknown))).Exists.ShouldBeFalse();
        (await bus.InvokeAsync<Credential>(new ResolveCredential(unknown))).Found.ShouldBeFalse();
    }

    [Fact]
    public async Task rotation_and_deletion_notify_other_modules_through_the_outbox()
    {
        var key = await Fixture.CreatedKey();

        var rotation = await Host.ExecuteAndWaitAsync(async () =>
            await Fixture.Client(TestKeys.KeySafe).RotateKeySecret(key.Id, new RotateKeySecret("u", "p")));
        var changed = rotation.AllRecordsInOrder().Select(r => r.Message).OfType<KeySecretChanged>().Distinct().ShouldHaveSingleItem();
        changed.ShouldBe(new KeySecretChanged(key.Id, 2));

        var deletion = await Host.ExecuteAndWaitAsync(async () => await Fixture.Client(TestKeys.KeySafe).DeleteKey(key.Id));
        deletion.AllRecordsInOrder().Select(r => r.Message).OfType<KeyRemoved>().Distinct().ShouldHaveSingleItem().KeyId.ShouldBe(key.Id);
    }
}
