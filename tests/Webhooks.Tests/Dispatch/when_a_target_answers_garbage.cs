using System.Net;
using Alba;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// A target's answer is untrusted input (issue 11): whatever bytes it sends (NUL, invalid UTF-8, a binary or huge
/// body), the verdict and its message come out readable, the attempt is recorded with a clean, bounded excerpt, and
/// nothing reaches Wolverine's dead letters. Before the fix, a NUL made every publish on the event source a 500.
/// </summary>
public sealed class when_a_target_answers_garbage(AppFixture fixture) : ReceiverTest(fixture)
{
    private static readonly byte[] Nul = "x\0y"u8.ToArray();

    [Fact]
    public async Task a_nul_in_a_sync_warning_is_replaced_and_the_attempt_recorded()
    {
        Answer(403, "text/plain", Nul);
        await Fixture.Hook("sync-nul", Receiver.Url, PostModes.Sync);

        var answer = await Host.Publish(HttpStatusCode.OK);

        answer.GetProperty("warnings")[0].GetProperty("message").GetString().ShouldBe("x\uFFFDy");
        var delivery = await Fixture.Client(TestKeys.Auditor).GetDelivery(answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid());
        delivery.Attempts.ShouldHaveSingleItem().ResponseExcerpt.ShouldBe("x\uFFFDy");
        (await Host.Publish(HttpStatusCode.OK)).GetProperty("allowed").GetBoolean().ShouldBeTrue("the next publish works as well");
        await NoDeadLetters();
    }

    [Fact]
    public async Task a_nul_in_a_veto_message_is_replaced()
    {
        Answer(403, "text/plain; charset=utf-8", Nul);
        await Fixture.Hook("critical-nul", Receiver.Url, PostModes.SyncCritical);

        var problem = await Host.Publish(HttpStatusCode.UnprocessableEntity);

        problem.GetProperty("detail").GetString().ShouldBe("x\uFFFDy");
        await NoDeadLetters();
    }

    [Fact]
    public async Task an_async_delivery_whose_target_answers_a_nul_succeeds_and_is_recorded()
    {
        Answer(200, "text/plain", Nul);
        await Fixture.Hook("async-nul", Receiver.Url);

        var answer = await Host.Publish(HttpStatusCode.Accepted);

        var delivery = await Fixture.Client(TestKeys.Auditor).GetDelivery(answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid());
        delivery.Status.ShouldBe(DeliveryStatuses.Succeeded);
        delivery.Attempts.ShouldHaveSingleItem().ResponseExcerpt.ShouldBe("x\uFFFDy");
        await NoDeadLetters();
    }

    [Fact]
    public async Task the_test_button_survives_a_nul()
    {
        Answer(200, "text/plain", Nul);
        await Fixture.Hook("test-nul", Receiver.Url, PostModes.SyncCritical);

        var result = await Fixture.Client(TestKeys.Admin).TestWebhook("test-nul");

        result.Attempt.ResponseExcerpt.ShouldBe("x\uFFFDy");
        await NoDeadLetters();
    }

    [Theory]
    [InlineData("invalid UTF-8", "text/plain", new byte[] { 0x78, 0xFF, 0xFE, 0x79 }, "x\uFFFD\uFFFDy")]
    [InlineData("a control character", "application/json", new byte[] { 0x7B, 0x07, 0x7D }, "{\uFFFD}")]
    [InlineData("a character cut at the end", "text/plain", new byte[] { 0x61, 0xC3 }, "a")]
    [InlineData("a binary type", "image/png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x00 }, "[5 bytes of image/png: not text, not shown]")]
    public async Task any_other_bytes_are_stored_readably(string what, string contentType, byte[] body, string excerpt)
    {
        Answer(500, contentType, body);
        await Fixture.Hook("garbled", Receiver.Url, PostModes.Sync);

        var answer = await Host.Publish(HttpStatusCode.OK);

        var delivery = await Fixture.Client(TestKeys.Auditor).GetDelivery(answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid());
        delivery.Attempts.ShouldHaveSingleItem().ResponseExcerpt.ShouldBe(excerpt, what);
        await NoDeadLetters();
    }

    [Fact]
    public async Task a_ten_megabyte_answer_is_cut_to_the_excerpt()
    {
        var huge = new byte[10 * 1024 * 1024];
        Array.Fill(huge, (byte)'a');
        Answer(403, "text/plain", huge);
        await Fixture.Hook("huge", Receiver.Url, PostModes.SyncCritical);

        var problem = await Host.Publish(HttpStatusCode.UnprocessableEntity);

        problem.GetProperty("detail").GetString()!.Length.ShouldBe(4096);
        var delivery = await Fixture.Client(TestKeys.Auditor).GetDelivery(problem.GetProperty("deliveries")[0].GetProperty("id").GetGuid());
        delivery.Attempts.ShouldHaveSingleItem().ResponseExcerpt!.Length.ShouldBe(4096);
    }

    private void Answer(int status, string contentType, byte[] body) => Receiver.Respond = async (context, _) =>
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.Body.WriteAsync(body);
    };

    private async Task NoDeadLetters()
    {
        await using var db = await Host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await using var count = new NpgsqlCommand("select count(*) from wolverine.wolverine_dead_letters", db);
        ((long)(await count.ExecuteScalarAsync())!).ShouldBe(0);
    }
}
