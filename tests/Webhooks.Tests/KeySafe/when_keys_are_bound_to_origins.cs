using System.Net;
using Refit;
using Webhooks.Definitions.Contracts;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.KeySafe;

/// <summary>
/// A KeySafe key may be bound to the origins it may be sent to (issue 11, item 5): a webhook aimed elsewhere cannot
/// use it (400 at definition), and if the binding changes later, its deliveries fail at once, sending nothing.
/// </summary>
public sealed class when_keys_are_bound_to_origins(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task a_webhook_outside_the_keys_origins_cannot_use_it()
    {
        var key = await Fixture.Client(TestKeys.KeySafe).CreateKey(
            new CreateKey("crm", KeyTypes.HttpBasic, null, "u", "password", ["https://CRM.example.com:443/", "http://127.0.0.1:8080"]));
        key.AllowedOrigins.ShouldBe(["https://crm.example.com", "http://127.0.0.1:8080"]);

        var refused = await Should.ThrowAsync<ValidationApiException>(() => Fixture.Client(TestKeys.Admin).DefineWebhook(
            DefinitionsSetup.Webhook("elsewhere") with { Url = "https://attacker.example/collect", KeySafeKeyId = key.Id }));
        refused.Content!.Errors["keySafeKeyId"].Single().ShouldContain("may be sent only to https://crm.example.com, http://127.0.0.1:8080");
        refused.Content.Errors["keySafeKeyId"].Single().ShouldContain("https://attacker.example");

        (await Fixture.Client(TestKeys.Admin).DefineWebhook(
            DefinitionsSetup.Webhook("inside") with { Url = "https://crm.example.com/hooks", KeySafeKeyId = key.Id })).Name.ShouldBe("inside");
    }

    [Theory]
    [InlineData("ftp://crm.example.com")]
    [InlineData("https://crm.example.com/path")]
    [InlineData("https://user:pw@crm.example.com")]
    [InlineData("crm.example.com")]
    public async Task an_origin_that_is_not_one_is_a_field_error(string origin)
    {
        var refused = await Should.ThrowAsync<ValidationApiException>(() => Fixture.Client(TestKeys.KeySafe).CreateKey(
            new CreateKey("bad origins", KeyTypes.HttpBasic, null, "u", "password", [origin])));
        refused.Content!.Errors.ShouldContainKey("allowedOrigins");
    }

    [Fact]
    public async Task rebinding_the_key_elsewhere_fails_its_deliveries_at_once_and_sends_nothing()
    {
        var keysafe = Fixture.Client(TestKeys.KeySafe);
        var origin = $"{Receiver.Url.Scheme}://{Receiver.Url.Authority}";
        var key = await keysafe.CreateKey(new CreateKey("receiver", KeyTypes.HttpBasic, null, "u", "password", [origin]));
        await Fixture.Hook("bound", Receiver.Url, keyId: key.Id);
        await Host.Publish(HttpStatusCode.Accepted);
        (await Receiver.WaitFor(1)).Single().Header("Authorization").ShouldStartWith("Basic ");

        await Host.ExecuteAndWaitAsync(() => keysafe.UpdateKey(key.Id, new UpdateKey(null, null, ["https://crm.example.com"])));
        var answer = await Host.Publish(HttpStatusCode.Accepted);

        var delivery = await Poll.Until(
            () => Fixture.Client(TestKeys.Auditor).GetDelivery(answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid()),
            d => d.Status != "pending");
        delivery.Status.ShouldBe("failed");
        delivery.Attempts.ShouldHaveSingleItem().Error!.ShouldContain("may be sent only to https://crm.example.com");
        delivery.Reason!.ShouldStartWith("Not retried");
        Receiver.Requests.Count.ShouldBe(1, "nothing was sent to the origin the key is no longer bound to");
        (await keysafe.GetKeyHistory(key.Id)).Items[^1].Changed.ShouldBe(["allowedOrigins"]);
    }
}
