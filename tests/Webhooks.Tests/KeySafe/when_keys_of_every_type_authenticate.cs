using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Webhooks.Client;
using Webhooks.Dispatch.Contracts;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine;
using Wolverine.Tracking;

namespace Webhooks.Tests.KeySafe;

/// <summary>
/// Issue 15: every KeySafe key type a webhook may authenticate with, checked by a real receiver on loopback: what it
/// sent, that the delivery's record shows it redacted, and that the key never answers its secret.
/// </summary>
public sealed class when_keys_of_every_type_authenticate(AppFixture fixture) : ReceiverTest(fixture)
{
    private IWebhooksApi KeySafe => Fixture.Client(TestKeys.KeySafe);

    private async Task<DeliveryView> Delivered()
    {
        var answer = await Host.Publish(HttpStatusCode.Accepted);
        var id = answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid();
        return await Poll.Until(() => Fixture.Client(TestKeys.Auditor).GetDelivery(id), d => d.Status != DeliveryStatuses.Pending);
    }

    [Fact]
    public async Task a_bearer_key_sends_its_token_in_authorization()
    {
        var key = await KeySafe.CreateKey(new CreateKey("crm token", KeyTypes.Bearer, null, null, null, Token: "tok-8d2f1a"));
        key.Type.ShouldBe(KeyTypes.Bearer);
        await Fixture.Hook("bearer", Receiver.Url, authenticationKeyId: key.Id);

        var delivery = await Delivered();

        delivery.Status.ShouldBe(DeliveryStatuses.Succeeded);
        Receiver.Requests.Single().Header("Authorization").ShouldBe("Bearer tok-8d2f1a");
        delivery.Attempts.Single().RequestHeaders["Authorization"].ShouldBe("Bearer [redacted]");
        (await KeySafe.GetKeyHistory(key.Id)).Items.Single().Changed.ShouldBe(["name", "type", "description", "secret"]);
    }

    [Fact]
    public async Task an_api_key_header_key_sends_its_value_in_its_header_and_an_echo_of_it_is_scrubbed()
    {
        var key = await KeySafe.CreateKey(new CreateKey("crm api key", KeyTypes.ApiKeyHeader, null, null, null, HeaderName: "X-Api-Key", Value: "ak-55e0c1b7"));
        key.HeaderName.ShouldBe("X-Api-Key");
        Receiver.Respond = (context, _) => context.Response.WriteAsync($"you sent {context.Request.Headers["X-Api-Key"]}");
        await Fixture.Hook("api-key", Receiver.Url, authenticationKeyId: key.Id);

        var delivery = await Delivered();

        Receiver.Requests.Single().Header("X-Api-Key").ShouldBe("ak-55e0c1b7");
        Receiver.Requests.Single().Header("Authorization").ShouldBeNull();
        var attempt = delivery.Attempts.Single();
        attempt.RequestHeaders["X-Api-Key"].ShouldBe("[redacted]");
        attempt.ResponseExcerpt.ShouldBe("you sent [redacted]");
        (await KeySafe.GetKeyHistory(key.Id)).Items.Single().Changed.ShouldBe(["name", "type", "description", "headerName", "secret"]);
    }

    [Fact]
    public async Task an_oauth2_key_fetches_a_token_keeps_it_and_fetches_a_new_one_once_on_a_401()
    {
        await using var authority = await Receiver.Start();
        var issued = 0;
        string? form = null;
        authority.Respond = async (context, _) =>
        {
            form = await new StreamReader(context.Request.Body).ReadToEndAsync();
            var token = $"at-{Interlocked.Increment(ref issued)}";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { access_token = token, token_type = "Bearer", expires_in = 3600 }));
        };
        // The target stops taking the first token after two calls, as if it had been revoked.
        Receiver.Respond = (context, number) =>
        {
            if (number > 2 && context.Request.Headers.Authorization == "Bearer at-1")
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            }

            return Task.CompletedTask;
        };
        var key = await KeySafe.CreateKey(new CreateKey(
            "crm oauth", KeyTypes.OAuth2ClientCredentials, null, null, null,
            TokenUrl: authority.Url.ToString(), ClientId: "webhooks client", ClientSecret: "cs-1f4e9a", Scope: "hooks.write"));
        key.TokenUrl.ShouldBe(authority.Url.ToString());
        key.ClientId.ShouldBe("webhooks client");
        key.Scope.ShouldBe("hooks.write");
        await Fixture.Hook("oauth", Receiver.Url, authenticationKeyId: key.Id);

        (await Delivered()).Status.ShouldBe(DeliveryStatuses.Succeeded);
        (await Delivered()).Status.ShouldBe(DeliveryStatuses.Succeeded);
        var third = await Delivered();

        // RFC 6749 4.4 with client_secret_basic: the id and secret form-encoded, then Basic.
        var tokenRequest = authority.Requests[0];
        tokenRequest.Header("Authorization").ShouldBe("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("webhooks%20client:cs-1f4e9a")));
        form.ShouldBe("grant_type=client_credentials&scope=hooks.write");
        Receiver.Requests.Select(r => r.Header("Authorization")).ShouldBe(["Bearer at-1", "Bearer at-1", "Bearer at-1", "Bearer at-2"]);
        authority.Requests.Count.ShouldBe(2, "the token was kept between calls, and fetched again once after the 401");
        third.Status.ShouldBe(DeliveryStatuses.Succeeded);
        third.Attempts.Single().StatusCode.ShouldBe(200, "the call made again with the new token is the attempt");
        third.Attempts.Single().RequestHeaders["Authorization"].ShouldBe("Bearer [redacted]");
    }

    [Fact]
    public async Task an_oauth2_key_whose_token_endpoint_refuses_fails_the_attempt_saying_why_and_sends_nothing()
    {
        await using var authority = await Receiver.Start();
        authority.Respond = async (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"error":"invalid_client","error_description":"bad secret cs-wrong-77"}""");
        };
        var key = await KeySafe.CreateKey(new CreateKey(
            "refused oauth", KeyTypes.OAuth2ClientCredentials, null, null, null,
            TokenUrl: authority.Url.ToString(), ClientId: "c", ClientSecret: "cs-wrong-77"));
        await Fixture.Hook("oauth-refused", Receiver.Url, authenticationKeyId: key.Id);

        var answer = await Host.Publish(HttpStatusCode.Accepted);
        var id = answer.GetProperty("deliveries")[0].GetProperty("id").GetGuid();
        var delivery = await Poll.Until(() => Fixture.Client(TestKeys.Auditor).GetDelivery(id), d => d.Attempts.Count > 0);

        var error = delivery.Attempts[0].Error!;
        error.ShouldContain($"the token endpoint {authority.Url} answered 401 (invalid_client: bad secret [redacted])");
        error.ShouldNotContain("cs-wrong-77");
        Receiver.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task an_mtls_key_presents_its_certificate_and_a_rotation_to_pkcs12_presents_the_new_one()
    {
        await using var tls = await Receiver.StartTls();
        var (certificate, privateKey) = TestCertificates.ClientPem("webhooks-client-one");
        var key = await KeySafe.CreateKey(new CreateKey(
            "crm mtls", KeyTypes.Mtls, null, null, null, CertificatePem: certificate, PrivateKeyPem: privateKey));
        key.Certificate!.Subject.ShouldBe("CN=webhooks-client-one");
        key.Certificate.Issuer.ShouldBe("CN=Webhooks Test Authority");
        key.Certificate.Thumbprint.Length.ShouldBe(64);
        await Fixture.Hook("mtls", tls.Url, authenticationKeyId: key.Id);

        await Host.Publish(HttpStatusCode.Accepted);
        (await tls.WaitFor(1)).Single().ClientCertificate.ShouldBe("CN=webhooks-client-one");

        await Fixture.Host.ExecuteAndWaitAsync(() => KeySafe.RotateKeySecret(
            key.Id, new RotateKeySecret(null, null, Pkcs12Base64: TestCertificates.ClientPkcs12("webhooks-client-two", "p12-pw"), Pkcs12Password: "p12-pw")));
        await Host.Publish(HttpStatusCode.Accepted);

        (await tls.WaitFor(2))[1].ClientCertificate.ShouldBe("CN=webhooks-client-two");
        (await KeySafe.GetKey(key.Id)).Certificate!.Subject.ShouldBe("CN=webhooks-client-two");
        (await KeySafe.GetKeyHistory(key.Id)).Items[^1].Changed.ShouldBe(["certificate", "secret"]);
    }

    [Fact]
    public async Task without_a_key_a_tls_target_gets_no_client_certificate()
    {
        await using var tls = await Receiver.StartTls();
        await Fixture.Hook("tls-only", tls.Url);

        await Host.Publish(HttpStatusCode.Accepted);

        var request = (await tls.WaitFor(1)).Single();
        request.ClientCertificate.ShouldBeNull();
        request.Header("Authorization").ShouldBeNull();
    }

    [Fact]
    public async Task hornbills_keysafekeyid_takes_httpbasic_keys_only_and_the_others_go_in_authentication()
    {
        var key = await KeySafe.CreateKey(new CreateKey("not basic", KeyTypes.Bearer, null, null, null, Token: "t"));
        var admin = Fixture.Client(TestKeys.Admin);

        var refused = await Should.ThrowAsync<Refit.ValidationApiException>(() => admin.DefineWebhook(
            DefinitionsSetup.Webhook("hornbill-form") with { KeySafeKeyId = key.Id }));
        refused.Content!.Errors["keySafeKeyId"].Single().ShouldStartWith("The KeySafe key 'not basic' is of type bearer; keySafeKeyId takes httpBasic keys");
        var basic = await Fixture.CreatedKey();
        var both = await Should.ThrowAsync<Refit.ValidationApiException>(() => admin.DefineWebhook(
            DefinitionsSetup.Webhook("both") with { KeySafeKeyId = basic.Id, Authentication = new(key.Id) }));
        both.Content!.Errors["authentication"].Single().ShouldContain("not both");

        var defined = await admin.DefineWebhook(DefinitionsSetup.Webhook("richer") with { Authentication = new(key.Id) });
        defined.Authentication!.KeySafeKeyId.ShouldBe(key.Id);
        defined.KeySafeKeyId.ShouldBeNull();
        (await Should.ThrowAsync<Refit.ApiException>(() => KeySafe.DeleteKey(key.Id))).StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task a_rotation_keeps_the_type_and_takes_only_its_fields_writing_nothing_when_refused()
    {
        var key = await KeySafe.CreateKey(new CreateKey("rotating", KeyTypes.Bearer, null, null, null, Token: "t1"));

        var refused = await Should.ThrowAsync<Refit.ValidationApiException>(() => KeySafe.RotateKeySecret(key.Id, new RotateKeySecret("u", "p")));
        refused.Content!.Errors["password"].Single().ShouldBe("A bearer key has no field password; it takes token.");
        refused.Content.Errors["token"].Single().ShouldBe("A bearer token is required.");
        (await KeySafe.GetKey(key.Id)).Version.ShouldBe(1);

        var rotated = await KeySafe.RotateKeySecret(key.Id, new RotateKeySecret(null, null, Token: "t2"));
        rotated.Version.ShouldBe(2);
        (await KeySafe.GetKeyHistory(key.Id)).Items[^1].Changed.ShouldBe(["secret"]);
        (await Host.MessageBus().InvokeAsync<Credential>(new ResolveCredential(key.Id))).Token.ShouldBe("t2");
    }
}
