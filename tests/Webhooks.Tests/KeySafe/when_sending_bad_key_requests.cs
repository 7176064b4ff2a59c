using System.Net;
using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.KeySafe;

public sealed class when_sending_bad_key_requests(AppFixture fixture) : AppTest(fixture)
{
    public static TheoryData<object, string, string> BadKeys => new()
    {
        { new { name = "", type = "httpBasic", username = "u", password = "p" }, "name", "required" },
        { new { name = new string('n', 101), type = "httpBasic", username = "u", password = "p" }, "name", "at most 100" },
        { new { name = "tab\there", type = "httpBasic", username = "u", password = "p" }, "name", "control characters" },
        { new { name = "k", type = "httpBasic", username = "u" }, "password", "required" },
        { new { name = "k", type = "httpBasic", password = "p" }, "username", "required" },
        { new { name = "k", type = "httpBasic", username = "a:b", password = "p" }, "username", "':'" },
        { new { name = "k", type = "httpBasic", username = "u", password = new string('p', 1025) }, "password", "at most 1024" },
        { new { name = "k", type = "oauth2", username = "u", password = "p" }, "type", "httpBasic, bearer, apiKeyHeader, oauth2ClientCredentials, mtls" },
        { new { name = "k", type = "bearer" }, "token", "A bearer token is required." },
        { new { name = "k", type = "bearer", token = "has space" }, "token", "without spaces" },
        { new { name = "k", type = "bearer", token = "t", password = "p" }, "password", "A bearer key has no field password; it takes token." },
        { new { name = "k", type = "httpBasic", username = "u", password = "p", token = "t" }, "token", "has no field token" },
        { new { name = "k", type = "apiKeyHeader", value = "v" }, "headerName", "required" },
        { new { name = "k", type = "apiKeyHeader", headerName = "webhook-signature", value = "v" }, "headerName", "reserved" },
        { new { name = "k", type = "apiKeyHeader", headerName = "Content-Type", value = "v" }, "headerName", "reserved" },
        { new { name = "k", type = "apiKeyHeader", headerName = "X Key", value = "v" }, "headerName", "is not a header name" },
        { new { name = "k", type = "apiKeyHeader", headerName = "X-Key", value = "a\r\nInjected: yes" }, "value", "printable ASCII" },
        { new { name = "k", type = "oauth2ClientCredentials", tokenUrl = "ftp://login.example.com/token", clientId = "c", clientSecret = "s" }, "tokenUrl", "absolute http(s) URL" },
        { new { name = "k", type = "oauth2ClientCredentials", tokenUrl = "https://login.example.com/token", clientSecret = "s" }, "clientId", "required" },
        { new { name = "k", type = "oauth2ClientCredentials", tokenUrl = "https://login.example.com/token?client_secret=s", clientId = "c", clientSecret = "s" }, "tokenUrl", "without credentials, ?query or #fragment" },
        { new { name = "k", type = "apiKeyHeader", headerName = "Content-Language", value = "v" }, "headerName", "it describes the body" },
        { new { name = "k", type = "apiKeyHeader", headerName = "Expires", value = "v" }, "headerName", "it describes the body" },
        { new { name = "k", type = "oauth2ClientCredentials", tokenUrl = "https://login.example.com/token", clientId = "c" }, "clientSecret", "required" },
        { new { name = "k", type = "mtls" }, "certificatePem", "either as PEM" },
        { new { name = "k", type = "mtls", certificatePem = "x", privateKeyPem = "y", pkcs12Base64 = "z" }, "pkcs12Base64", "not both" },
        { new { name = "k", type = "mtls", certificatePem = "-----BEGIN CERTIFICATE-----" }, "privateKeyPem", "Both the certificate" },
        { new { name = "k", type = "mtls", certificatePem = "not a certificate", privateKeyPem = "not a key" }, "privateKeyPem", "do not load together" },
        { new { name = "k", type = "mtls", pkcs12Base64 = "bm90IGEgcGtjczEy", pkcs12Password = "pw" }, "pkcs12Base64", "could not be opened" },
        { new { name = "k", username = "u", password = "p" }, "type", "httpBasic" },
        { new { name = "k", type = "mtls", pkcs12Base64 = TestCertificates.ClientPkcs12("right", "right-pw"), pkcs12Password = "wrong-pw" }, "pkcs12Base64", "could not be opened" },
        { ExpiredCertificate(), "certificatePem", "expired on" },
        { MismatchedKey(), "privateKeyPem", "do not load together" },
        { new { name = "k", type = "httpBasic", description = new string('d', 2001), username = "u", password = "p" }, "description", "2000" },
    };

    private static object ExpiredCertificate()
    {
        var (certificate, key) = TestCertificates.ClientPem("expired", notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        return new { name = "k", type = "mtls", certificatePem = certificate, privateKeyPem = key };
    }

    /// <summary>A certificate with another certificate's key.</summary>
    private static object MismatchedKey() =>
        new { name = "k", type = "mtls", certificatePem = TestCertificates.ClientPem("one").CertificatePem, privateKeyPem = TestCertificates.ClientPem("two").PrivateKeyPem };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task a_bad_key_is_a_field_error_and_nothing_is_stored(object body, string field, string message)
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(TestKeys.KeySafe);
            s.Post.Json(body).ToUrl("/keysafe/keys");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });

        (await result.Problem()).FieldErrors(field).ShouldContain(m => m.Contains(message));
        await using var session = Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.Events.QueryAllRawEvents().CountAsync()).ShouldBe(0);
        (await session.Query<Webhooks.KeySafe.Keys.KeySecret>().CountAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task an_update_without_any_field_or_a_rotation_without_a_password_is_a_field_error()
    {
        var key = await Fixture.CreatedKey();

        await Expect(HttpStatusCode.BadRequest, s => s.Patch.Json(new { }).ToUrl($"/keysafe/keys/{key.Id}"));
        await Expect(HttpStatusCode.BadRequest, s => s.Put.Json(new { username = "u" }).ToUrl($"/keysafe/keys/{key.Id}/secret"));
        (await Fixture.Client(TestKeys.KeySafe).GetKey(key.Id)).Version.ShouldBe(1);
    }

    [Fact]
    public async Task an_unknown_key_is_a_404_problem_everywhere()
    {
        var id = Guid.NewGuid();
        await Expect(HttpStatusCode.NotFound, s => s.Get.Url($"/keysafe/keys/{id}"));
        await Expect(HttpStatusCode.NotFound, s => s.Patch.Json(new { name = "x" }).ToUrl($"/keysafe/keys/{id}"));
        await Expect(HttpStatusCode.NotFound, s => s.Put.Json(new { username = "u", password = "p" }).ToUrl($"/keysafe/keys/{id}/secret"));
        await Expect(HttpStatusCode.NotFound, s => s.Delete.Url($"/keysafe/keys/{id}"));
        await Expect(HttpStatusCode.NotFound, s => s.Get.Url($"/keysafe/keys/{id}/history"));
        await Expect(HttpStatusCode.NotFound, s => s.Get.Url("/keysafe/keys/not-a-guid"));

        // The empty GUID, which Marten refuses as a stream id, is no key either.
        var empty = Guid.Empty;
        await Expect(HttpStatusCode.NotFound, s => s.Get.Url($"/keysafe/keys/{empty}"));
        await Expect(HttpStatusCode.NotFound, s => s.Patch.Json(new { name = "x" }).ToUrl($"/keysafe/keys/{empty}"));
        await Expect(HttpStatusCode.NotFound, s => s.Put.Json(new { username = "u", password = "p" }).ToUrl($"/keysafe/keys/{empty}/secret"));
        await Expect(HttpStatusCode.NotFound, s => s.Delete.Url($"/keysafe/keys/{empty}"));
    }

    [Fact]
    public async Task a_missing_key_is_described_as_a_problem_with_its_id()
    {
        var id = Guid.NewGuid();
        var result = await Expect(HttpStatusCode.NotFound, s => s.Delete.Url($"/keysafe/keys/{id}"));
        (await result.Problem()).GetProperty("detail").GetString().ShouldBe($"There is no KeySafe key with id {id}.");
    }

    [Fact]
    public async Task an_admin_without_the_keysafe_role_sees_keys_to_choose_one_but_changes_none_and_reads_no_history()
    {
        var key = await Fixture.CreatedKey();
        await Expect(HttpStatusCode.OK, s => s.Get.Url($"/keysafe/keys/{key.Id}"), TestKeys.Admin);
        await Expect(HttpStatusCode.OK, s => s.Get.Url("/keysafe/keys"), TestKeys.Admin);
        await Expect(HttpStatusCode.Forbidden, s => s.Post.Json(new { name = "k", type = "httpBasic", username = "u", password = "p" }).ToUrl("/keysafe/keys"), TestKeys.Admin);
        await Expect(HttpStatusCode.Forbidden, s => s.Patch.Json(new { name = "x" }).ToUrl($"/keysafe/keys/{key.Id}"), TestKeys.Admin);
        await Expect(HttpStatusCode.Forbidden, s => s.Put.Json(new { username = "u", password = "p" }).ToUrl($"/keysafe/keys/{key.Id}/secret"), TestKeys.Admin);
        await Expect(HttpStatusCode.Forbidden, s => s.Delete.Url($"/keysafe/keys/{key.Id}"), TestKeys.Admin);
        await Expect(HttpStatusCode.Forbidden, s => s.Get.Url($"/keysafe/keys/{key.Id}/history"), TestKeys.Admin);
    }

    [Fact]
    public async Task an_auditor_reads_keys_and_their_history_but_changes_nothing()
    {
        var key = await Fixture.CreatedKey();
        var auditor = TestKeys.Auditor;

        await Expect(HttpStatusCode.OK, s => s.Get.Url($"/keysafe/keys/{key.Id}"), auditor);
        await Expect(HttpStatusCode.OK, s => s.Get.Url("/keysafe/keys"), auditor);
        await Expect(HttpStatusCode.OK, s => s.Get.Url($"/keysafe/keys/{key.Id}/history"), auditor);
        await Expect(HttpStatusCode.Forbidden, s => s.Post.Json(new { name = "k2", type = "httpBasic", username = "u", password = "p" }).ToUrl("/keysafe/keys"), auditor);
        await Expect(HttpStatusCode.Forbidden, s => s.Patch.Json(new { name = "x" }).ToUrl($"/keysafe/keys/{key.Id}"), auditor);
        await Expect(HttpStatusCode.Forbidden, s => s.Put.Json(new { username = "u", password = "p" }).ToUrl($"/keysafe/keys/{key.Id}/secret"), auditor);
        await Expect(HttpStatusCode.Forbidden, s => s.Delete.Url($"/keysafe/keys/{key.Id}"), auditor);
        await Expect(HttpStatusCode.Forbidden, s => s.Post.Json(new { }).ToUrl("/keysafe/rewrap"), auditor);
        (await Fixture.Client(TestKeys.KeySafe).GetKey(key.Id)).Version.ShouldBe(1);
    }

    private async Task<IScenarioResult> Expect(HttpStatusCode status, Action<Scenario> request, string? apiKey = null)
    {
        var result = await Host.Scenario(s =>
        {
            s.WithKey(apiKey ?? TestKeys.KeySafe);
            request(s);
            s.StatusCodeShouldBe(status);
        });
        if ((int)status >= 400)
        {
            await result.Problem();
        }

        return result;
    }
}
