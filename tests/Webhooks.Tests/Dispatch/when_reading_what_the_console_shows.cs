using System.Net;
using System.Text.Json;
using Refit;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine.Tracking;

namespace Webhooks.Tests.Dispatch;

/// <summary>
/// The reads the admin console needs (issue 12), in the public API so the console holds no privilege of its own:
/// who a key is, webhooks searched by name, each webhook's recent activity, the deliveries overview, a webhook's
/// statistics over time, the list of bins, and a trigger expression checked against a record.
/// </summary>
public sealed class when_reading_what_the_console_shows(AppFixture fixture) : ReceiverTest(fixture)
{
    [Fact]
    public async Task a_key_says_who_it_is()
    {
        (await Fixture.Client(TestKeys.Admin).GetMe()).ShouldBe(new CallerView("admin", [Roles.Admin], []), new CallerComparer());
        var limited = await Fixture.Client(TestKeys.LimitedPublisher).GetMe();
        (limited.Name, limited.Roles.Single(), limited.Applications.Single()).ShouldBe(("crm-publisher", Roles.Publisher, "crm"));
        (await Fixture.Client(TestKeys.For([.. Roles.All])).GetMe()).Roles.ShouldBe(Roles.All);
    }

    [Fact]
    public async Task webhooks_are_searched_by_a_part_of_their_name()
    {
        await Fixture.DefinedWebhook(DefinitionsSetup.Webhook("crm-contacts"));
        await Fixture.DefinedWebhook(DefinitionsSetup.Webhook("Legacy_CRM"));
        await Fixture.DefinedWebhook(DefinitionsSetup.Webhook("billing"));

        var admin = Fixture.Client(TestKeys.Admin);
        (await admin.ListWebhooks(q: "crm")).Items.Select(w => w.Name).ShouldBe(["Legacy_CRM", "crm-contacts"]);
        (await admin.ListWebhooks(q: "_")).Items.Select(w => w.Name).ShouldBe(["Legacy_CRM"], "'_' is a character, not a wildcard");
        (await Should.ThrowAsync<ValidationApiException>(() => admin.ListWebhooks(q: new string('x', 101)))).Content!.Errors.ShouldContainKey("q");
    }

    [Fact]
    public async Task each_webhook_says_how_it_has_been_doing_lately()
    {
        Receiver.Respond = (context, number) =>
        {
            context.Response.StatusCode = number == 4 ? 500 : 200;
            return Task.CompletedTask;
        };
        await Fixture.Hook("busy", Receiver.Url, PostModes.Sync);
        await Fixture.Hook("quiet", Receiver.Url, PostModes.Sync, trigger: "h_name = 'nobody'");
        for (var i = 0; i < 4; i++)
        {
            await Host.Publish(HttpStatusCode.OK);
        }

        var activity = await Fixture.Client(TestKeys.Auditor).GetWebhookActivity("busy,quiet,ghost");

        activity.Count.ShouldBe(2, "unknown names are left out");
        var busy = activity.Single(a => a.Webhook == "busy");
        (busy.LastStatus, busy.RecentSucceeded, busy.RecentFailed, busy.RecentSuccessRate).ShouldBe(("failed", 3, 1, 0.75));
        busy.LastDeliveryAt.ShouldNotBeNull();
        var quiet = activity.Single(a => a.Webhook == "quiet");
        (quiet.LastStatus, quiet.LastDeliveryAt, quiet.RecentSuccessRate).ShouldBe((null, null, null));
        (await Should.ThrowAsync<ValidationApiException>(() => Fixture.Client(TestKeys.Auditor).GetWebhookActivity("")))
            .Content!.Errors.ShouldContainKey("webhooks");
    }

    [Fact]
    public async Task the_overview_counts_every_webhooks_deliveries_over_time()
    {
        Receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = context.Request.Headers["webhook-signature"].Count > 0 && context.Request.Path.Value!.EndsWith("fail", StringComparison.Ordinal) ? 500 : 200;
            return Task.CompletedTask;
        };
        await Fixture.Hook("good", Receiver.Url, PostModes.Sync);
        await Fixture.Hook("bad", new Uri(Receiver.Url, "fail"), PostModes.Sync);
        await Host.Publish(HttpStatusCode.OK);
        await Host.Publish(HttpStatusCode.OK);

        var overview = await Fixture.Client(TestKeys.Auditor).GetDeliveryOverview();

        (overview.Succeeded, overview.Failed, overview.Pending, overview.SuccessRate).ShouldBe((2, 2, 0, 0.5));
        overview.Series.Count.ShouldBe(24);
        (overview.Series.Sum(b => b.Succeeded), overview.Series.Sum(b => b.Failed)).ShouldBe((2, 2));
        overview.Series[^1].Failed.ShouldBe(2, "the newest bucket holds what just happened");
        overview.FailingMost.ShouldHaveSingleItem().ShouldBe(new FailingWebhook("bad", 2, 2));
        overview.LatencyP50Ms.ShouldNotBeNull();
        (await Should.ThrowAsync<ValidationApiException>(() => Fixture.Client(TestKeys.Auditor).GetDeliveryOverview(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(-1))))
            .Content!.Errors.ShouldContainKey("from");
    }

    [Fact]
    public async Task a_webhooks_statistics_come_as_a_series_on_request()
    {
        await Fixture.Hook("charted", Receiver.Url, PostModes.Sync);
        await Host.Publish(HttpStatusCode.OK);

        var stats = await Fixture.Client(TestKeys.Auditor).GetWebhookStats("charted", series: true);

        stats.Series!.Count.ShouldBe(24);
        stats.Series.Sum(b => b.Succeeded).ShouldBe(1);
        (await Fixture.Client(TestKeys.Auditor).GetWebhookStats("charted")).Series.ShouldBeNull();
    }

    [Fact]
    public async Task bins_are_listed_newest_first()
    {
        var admin = Fixture.Client(TestKeys.Admin);
        var first = await admin.CreateBin();
        var second = await admin.CreateBin();

        (await admin.ListBins()).Items.Select(b => b.Id).ShouldBe([second.Id, first.Id]);
    }

    [Fact]
    public async Task a_trigger_expression_is_checked_against_the_sample_record_or_a_record()
    {
        await Host.ExecuteAndWaitAsync(() => Fixture.Client(TestKeys.Admin).RegisterEventSource("crm", "contact-check",
            new RegisterEventSource("Contact", null, EntityEvents.Update, null, JsonSerializer.SerializeToNode(new { h_name = "Gary" })!.AsObject())));
        var admin = Fixture.Client(TestKeys.Admin);

        var broken = await admin.CheckTriggerExpression(new CheckTriggerExpression("h_name = 'G' AND"));
        (broken.Valid, broken.Position, broken.Tried).ShouldBe((false, 17, false), "the expression ends where a term should follow");
        broken.Error.ShouldNotBeNullOrEmpty();

        (await admin.CheckTriggerExpression(new CheckTriggerExpression("LEFT(h_name) = 'G'", "crm", "contact-check"))).Matches.ShouldBe(true);
        (await admin.CheckTriggerExpression(new CheckTriggerExpression("LEFT(h_name) = 'M'", "crm", "contact-check"))).Matches.ShouldBe(false);
        (await admin.CheckTriggerExpression(new CheckTriggerExpression("h_name = 'M'", Record: JsonDocument.Parse("""{"h_name":"M"}""").RootElement))).Matches.ShouldBe(true);
        var cannot = await admin.CheckTriggerExpression(new CheckTriggerExpression("LEFT(h_name, -1) = 'G'", "crm", "contact-check"));
        (cannot.Valid, cannot.Tried, cannot.Matches).ShouldBe((true, true, null));
        cannot.EvaluationError.ShouldNotBeNullOrEmpty();
        (await Should.ThrowAsync<ValidationApiException>(() => admin.CheckTriggerExpression(new CheckTriggerExpression(null))))
            .Content!.Errors.ShouldContainKey("expression");
    }

    private sealed class CallerComparer : IEqualityComparer<CallerView>
    {
        public bool Equals(CallerView? x, CallerView? y) =>
            x is not null && y is not null && x.Name == y.Name && x.Roles.SequenceEqual(y.Roles) && x.Applications.SequenceEqual(y.Applications);

        public int GetHashCode(CallerView obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
