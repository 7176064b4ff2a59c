using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// KeySafe promises use without sight (issue 11, item 5): an admin who points a webhook with a key at a target that
/// echoes what it got must not read the password back, from the delivery log, the test answer or a veto message.
/// </summary>
public sealed class when_a_target_echoes_credentials(AppFixture fixture) : ReceiverTest(fixture)
{
    private const string Password = "p@ss w0rd/secret";

    [Theory]
    [InlineData(PostModes.Async)]
    [InlineData(PostModes.Sync)]
    public async Task the_delivery_log_shows_the_echo_without_the_password(string postMode)
    {
        Echo(200);
        var key = await Fixture.CreatedKey(username: "hooks", password: Password);
        await Fixture.Hook("echo", Receiver.Url, postMode, keyId: key.Id);

        var answer = await Host.Publish(postMode == PostModes.Async ? HttpStatusCode.Accepted : HttpStatusCode.OK);
        await Receiver.WaitFor(1);

        var delivery = await Poll.Until(
            () => Fixture.Client(TestKeys.Auditor).GetDelivery(answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid()),
            d => d.Attempts.Count == 1);
        var excerpt = delivery.Attempts[0].ResponseExcerpt!;
        ShouldHoldNoSecret(excerpt);
        excerpt.ShouldContain("[redacted]");
    }

    [Fact]
    public async Task the_test_answer_and_a_veto_show_the_echo_without_the_password()
    {
        Echo(403);
        var key = await Fixture.CreatedKey(username: "hooks", password: Password);
        await Fixture.Hook("echo-veto", Receiver.Url, PostModes.SyncCritical, keyId: key.Id);

        var tested = await Fixture.Client(TestKeys.Admin).TestWebhook("echo-veto");
        var vetoed = await Host.Publish(HttpStatusCode.UnprocessableEntity);

        ShouldHoldNoSecret(tested.Attempt.ResponseExcerpt!);
        ShouldHoldNoSecret(vetoed.GetProperty("detail").GetString()!);
        ShouldHoldNoSecret(vetoed.ToString());
    }

    [Fact]
    public async Task an_answer_holding_a_short_password_is_withheld()
    {
        Echo(200);
        var key = await Fixture.CreatedKey(username: "hooks", password: "pw1");
        await Fixture.Hook("echo-short", Receiver.Url, PostModes.Sync, keyId: key.Id);

        var answer = await Host.Publish(HttpStatusCode.OK);

        var delivery = await Fixture.Client(TestKeys.Auditor).GetDelivery(answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid());
        delivery.Attempts[0].ResponseExcerpt.ShouldBe("[withheld: the answer may contain the credential the call used]");
    }

    /// <summary>Answers text/plain with the Authorization header, the password it decodes to, and that URL-encoded.</summary>
    private void Echo(int status) => Receiver.Respond = async (context, _) =>
    {
        var header = context.Request.Headers.Authorization.ToString();
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
        var password = decoded[(decoded.IndexOf(':', StringComparison.Ordinal) + 1)..];
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync($"got {header}; password {password}; encoded {Uri.EscapeDataString(password)} {WebUtility.UrlEncode(password)}");
    };

    private static void ShouldHoldNoSecret(string text)
    {
        text.ShouldNotContain(Password);
        text.ShouldNotContain(Uri.EscapeDataString(Password));
        text.ShouldNotContain(WebUtility.UrlEncode(Password));
        text.ShouldNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"hooks:{Password}")));
    }
}
