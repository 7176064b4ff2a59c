using System.Net;
using System.Text;
using Alba;
using Npgsql;
using Webhooks.KeySafe.Contracts;
using Webhooks.Tests.Infrastructure;
using Wolverine;

namespace Webhooks.Tests.KeySafe;

/// <summary>
/// "Use without sight": a canary password goes in through every door (create, rotate, bad requests, malformed JSON,
/// in-process resolution) and is then searched for in every API answer, every table of the database (events
/// included), and every log line the host wrote.
/// </summary>
public sealed class when_a_canary_password_passes_through(AppFixture fixture) : AppTest(fixture)
{
    private const string Canary = "CANARY-pw-7f3c9e21";
    private const string RotatedCanary = "CANARY-rotated-51d0";

    [Fact]
    public async Task it_appears_in_no_answer_no_table_and_no_log()
    {
        var answers = new StringBuilder();
        async Task<string> Send(HttpMethod method, string url, string? json, string apiKey = "")
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new("Bearer", apiKey.Length > 0 ? apiKey : TestKeys.KeySafe);
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            var response = await Host.Server.CreateClient().SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            answers.AppendLine($"{(int)response.StatusCode} {string.Join(";", response.Headers.Select(h => $"{h.Key}={string.Join(",", h.Value)}"))} {body}");
            return body;
        }

        var created = await Send(HttpMethod.Post, "/keysafe/keys", $$"""{"name":"canary","type":"httpBasic","username":"svc","password":"{{Canary}}"}""");
        var id = System.Text.Json.JsonDocument.Parse(created).RootElement.GetProperty("id").GetGuid();
        await Send(HttpMethod.Get, $"/keysafe/keys/{id}", null);
        await Send(HttpMethod.Get, "/keysafe/keys", null);
        await Send(HttpMethod.Put, $"/keysafe/keys/{id}/secret", $$"""{"username":"svc2","password":"{{RotatedCanary}}"}""");
        await Send(HttpMethod.Get, $"/keysafe/keys/{id}/history", null, TestKeys.Auditor);
        // Bad requests that carry the canary must not echo it either.
        await Send(HttpMethod.Post, "/keysafe/keys", $$"""{"name":"","type":"httpBasic","username":"a:b","password":"{{Canary}}"}""");
        await Send(HttpMethod.Post, "/keysafe/keys", $$"""{"name":"x","type":"httpBasic","username":"u","password":"{{Canary}}" """);
        await Send(HttpMethod.Post, "/keysafe/keys", $$"""{"name":"x","type":"httpBasic","username":"u","password":["{{Canary}}"]}""");
        await Send(HttpMethod.Put, $"/keysafe/keys/{id}/secret", $"{{\"username\":\"u\",\"password\":{{\"{Canary}\":1}}}}");
        await Send(HttpMethod.Post, "/keysafe/keys", $$"""{"name":"canary","type":"httpBasic","username":"u","password":"{{Canary}}"}""");
        await Send(HttpMethod.Post, "/keysafe/keys", $$"""{"name":"forbidden","type":"httpBasic","username":"u","password":"{{Canary}}"}""", TestKeys.Admin);

        var credential = await Host.MessageBus().InvokeAsync<Credential>(new ResolveCredential(id));
        credential.Password.ShouldBe(RotatedCanary, "the in-process resolution is the one place the secret is seen");

        var database = await DumpDatabase();
        var logs = string.Join('\n', Fixture.Logs.Lines);

        database.ShouldContain("canary", Case.Sensitive, "the dump must include the key's own rows, or it searched nothing");
        foreach (var secret in new[] { Canary, RotatedCanary })
        {
            answers.ToString().ShouldNotContain(secret);
            database.ShouldNotContain(secret);
            logs.ShouldNotContain(secret);
            // Nor merely encoded.
            database.ShouldNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)));
        }
    }

    [Fact]
    public async Task no_secret_of_any_key_type_appears_in_an_answer_a_table_or_a_log()
    {
        const string token = "CANARY-token-0b1e", value = "CANARY-value-7c2d", clientSecret = "CANARY-client-9f3a", pkcs12Password = "CANARY-p12-4e8b";
        var (certificate, privateKey) = TestCertificates.ClientPem("canary-client");
        var pkcs12 = TestCertificates.ClientPkcs12("canary-client-2", pkcs12Password);
        var keyBody = privateKey.Split('\n')[1]; // a line of the private key's base64
        var answers = new StringBuilder();
        async Task<string> Send(HttpMethod method, string url, object body)
        {
            using var request = new HttpRequestMessage(method, url)
            {
                Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new("Bearer", TestKeys.KeySafe);
            var response = await Host.Server.CreateClient().SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            answers.AppendLine(text);
            return text;
        }

        Guid Id(string answer) => System.Text.Json.JsonDocument.Parse(answer).RootElement.GetProperty("id").GetGuid();

        var bearer = Id(await Send(HttpMethod.Post, "/keysafe/keys", new { name = "b", type = "bearer", token }));
        Id(await Send(HttpMethod.Post, "/keysafe/keys", new { name = "a", type = "apiKeyHeader", headerName = "X-Key", value }));
        var oauth = Id(await Send(HttpMethod.Post, "/keysafe/keys", new { name = "o", type = "oauth2ClientCredentials", tokenUrl = "https://login.example.com/t", clientId = "c", clientSecret }));
        var mtls = Id(await Send(HttpMethod.Post, "/keysafe/keys", new { name = "m", type = "mtls", certificatePem = certificate, privateKeyPem = privateKey }));
        await Send(HttpMethod.Put, $"/keysafe/keys/{mtls}/secret", new { pkcs12Base64 = pkcs12, pkcs12Password });
        // Refused, with the secrets in the wrong places.
        await Send(HttpMethod.Put, $"/keysafe/keys/{bearer}/secret", new { password = token, value, clientSecret });
        await Send(HttpMethod.Put, $"/keysafe/keys/{oauth}/secret", new { tokenUrl = "nope", clientId = "c", clientSecret, token });
        await Send(HttpMethod.Post, "/keysafe/keys", new { name = "x", type = "mtls", pkcs12Base64 = pkcs12, pkcs12Password = "wrong " + pkcs12Password });
        await Send(HttpMethod.Post, "/keysafe/keys", new { name = "y", type = "mtls", certificatePem = privateKey, privateKeyPem = certificate });
        foreach (var id in new[] { bearer, oauth, mtls })
        {
            answers.AppendLine(await (await Host.Server.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/keysafe/keys/{id}/history")
            {
                Headers = { Authorization = new("Bearer", TestKeys.Auditor) },
            })).Content.ReadAsStringAsync());
        }

        var database = await DumpDatabase();
        var logs = string.Join('\n', Fixture.Logs.Lines);
        database.ShouldContain("canary-client-2", Case.Sensitive, "the certificate's subject is shown, so it is in the key's row");
        foreach (var secret in new[] { token, value, clientSecret, pkcs12Password, keyBody, pkcs12[..64] })
        {
            answers.ToString().ShouldNotContain(secret);
            database.ShouldNotContain(secret);
            logs.ShouldNotContain(secret);
        }
    }

    /// <summary>Every row of every table in every schema but PostgreSQL's own, as text.</summary>
    private static async Task<string> DumpDatabase()
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables " +
            "where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        tables.ShouldContain(t => t.Contains("mt_events"));
        var dump = new StringBuilder();
        foreach (var table in tables)
        {
            await using var select = new NpgsqlCommand($"select t::text from {table} t", connection);
            await using var rows = await select.ExecuteReaderAsync();
            while (await rows.ReadAsync())
            {
                dump.AppendLine(rows.GetString(0));
            }
        }

        return dump.ToString();
    }
}
