using System.Net;
using System.Text;
using Alba;
using Refit;
using Webhooks.Client;
using Webhooks.Definitions.Contracts;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Dispatch;

public sealed class when_using_request_bins(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task a_bin_captures_any_method_without_a_key_and_shows_it_newest_first()
    {
        var bin = await Fixture.Client(TestKeys.Admin).CreateBin();
        bin.CaptureUrl.AbsolutePath.ShouldBe($"/bins/{bin.Id}/capture");

        await Host.Scenario(s =>
        {
            s.Post.Text("{\"hello\":1}").ToUrl(bin.CaptureUrl.AbsolutePath);
            s.WithRequestHeader("X-Test", "first");
            s.StatusCodeShouldBeOk();
        });
        await Host.Scenario(s =>
        {
            s.Put.Text("second").ToUrl(bin.CaptureUrl.AbsolutePath);
            s.StatusCodeShouldBeOk();
        });

        var requests = (await Fixture.Client(TestKeys.Admin).ListBinRequests(bin.Id)).Items;
        requests.Select(r => r.Method).ShouldBe(["PUT", "POST"]);
        requests[1].Body.ShouldBe("{\"hello\":1}");
        requests[1].Headers["X-Test"].ShouldBe("first");
    }

    [Fact]
    public async Task bins_are_capped_in_requests_and_body_size()
    {
        var bin = await Fixture.Client(TestKeys.Admin).CreateBin();
        for (var i = 0; i < 105; i++)
        {
            await Host.Scenario(s =>
            {
                s.Post.Text($"request {i}").ToUrl(bin.CaptureUrl.AbsolutePath);
                s.StatusCodeShouldBeOk();
            });
        }

        await Host.Scenario(s =>
        {
            s.Post.Text(new string('x', 70_000)).ToUrl(bin.CaptureUrl.AbsolutePath);
            s.StatusCodeShouldBeOk();
        });

        var requests = (await Fixture.Client(TestKeys.Admin).ListBinRequests(bin.Id)).Items;
        requests.Count.ShouldBe(100, "a bin keeps its newest 100 requests");
        requests[0].Truncated.ShouldBeTrue();
        requests[0].Body.Length.ShouldBe(64 * 1024);
        requests.ShouldNotContain(r => r.Body == "request 5");
    }

    [Fact]
    public async Task unknown_bins_and_roles_get_problems()
    {
        await Host.Scenario(s =>
        {
            s.Post.Text("x").ToUrl($"/bins/{Guid.NewGuid()}/capture");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Admin).ListBinRequests(Guid.NewGuid()))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Auditor).CreateBin())).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Publisher).ListBinRequests(Guid.NewGuid()))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Should.ThrowAsync<ApiException>(() => Fixture.Client(TestKeys.Admin).TestWebhook("ghost"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}

/// <summary>The test button against a bin needs real sockets on both sides: the host runs as its own process.</summary>
[Collection(SharedHost.Name)]
public sealed class when_testing_a_webhook_against_a_bin : IDisposable
{
    private readonly string directory = Repository.TempDirectory("test-button");

    [Fact]
    public async Task the_sample_record_arrives_in_the_bin_signed_and_the_attempt_is_answered()
    {
        await using var host = HostProcess.Start(directory, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__Webhooks"] = TestDatabase.ConnectionString,
            [$"Webhooks__KeySafe__MasterKeys__{AppFixture.MasterKeyId}"] = AppFixture.MasterKey,
            // The process runs outside its content root, so appsettings.Development.json's loopback allowance is not read.
            ["Webhooks__Dispatch__AllowedNetworks__0"] = "127.0.0.0/8",
        });
        await host.WaitUntilReady(TimeSpan.FromSeconds(90));
        var api = WebhooksClient.Create(host.Address, "dev-admin-key");
        var source = $"sample-{Guid.NewGuid():N}";
        var name = $"bin-test-{Guid.NewGuid():N}";

        var bin = await api.CreateBin();
        await api.RegisterEventSource("bins", source, new RegisterEventSource("Contact", null, "created", null,
            new System.Text.Json.Nodes.JsonObject { ["h_pk_id"] = "sample-1", ["h_name"] = "Sample" }));
        await Eventually(async () =>
        {
            await api.DefineWebhook(DefinitionsSetup.Webhook(name) with { Application = "bins", EventSource = source, Url = bin.CaptureUrl.ToString() });
            return true;
        });

        var result = await Eventually(() => api.TestWebhook(name));

        result.Status.ShouldBe("succeeded", result.Attempt.Error);
        result.Attempt.StatusCode.ShouldBe(200);
        var captured = (await api.ListBinRequests(bin.Id)).Items.Single();
        captured.Method.ShouldBe("POST");
        captured.Body.ShouldContain("\"h_pk_id\":\"sample-1\"");
        captured.Headers["webhook-id"].ShouldBe(result.DeliveryId.ToString());
        (await api.GetDelivery(result.DeliveryId)).Status.ShouldBe("succeeded");
        (await host.Signal("TERM", TimeSpan.FromSeconds(60))).ShouldBe(0);
    }

    public void Dispose() => TestDatabase.TryDelete(directory);

    /// <summary>The catalog reaches Dispatch through the outbox; across a process there is no tracking to wait on.</summary>
    private static async Task<T> Eventually<T>(Func<Task<T>> action)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return await action();
            }
            catch (ApiException) when (i < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}
