using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Host.Postgres;
using Webhooks.Tests.Infrastructure;

namespace Webhooks.Tests.Platform;

/// <summary>
/// Issue 11, item 3: writes that PostgreSQL would refuse while binding their parameters (a NUL in text or jsonb), when
/// they hit a statement Npgsql is auto-preparing at that moment, left the connection out of step with the server
/// (Npgsql 10.0.3 marks the statement prepared before its Bind succeeded); the next request on that pooled connection
/// failed with "Received unexpected backend message DataRow". Now such input never reaches PostgreSQL (a 400 naming
/// the field), so valid requests beside it always succeed.
/// </summary>
public sealed class when_failing_and_valid_writes_interleave(AppFixture fixture) : AppTest(fixture)
{
    [Fact]
    public async Task valid_requests_never_fail_and_bad_ones_are_4xx()
    {
        var answers = new ConcurrentBag<(bool Bad, string What, HttpStatusCode Status, string Body)>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            using var client = Host.Server.CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", TestKeys.For("admin", "keysafe"));
            int i;
            while ((i = Interlocked.Increment(ref next)) < 300)
            {
                var bad = i % 3 == 1;
                var (what, request) = (i % 2) switch
                {
                    0 => ("event source", new HttpRequestMessage(HttpMethod.Put, $"/applications/crm/event-sources/source-{i}")
                    {
                        Content = Json($$$"""{"entity":"Contact","event":"update","description":"{{{(bad ? "x\\u0000y" : "fine")}}}","sampleRecord":{"h_pk_id":"{{{i}}}"}}"""),
                    }),
                    _ => ("key", new HttpRequestMessage(HttpMethod.Post, "/keysafe/keys")
                    {
                        Content = Json($$"""{"name":"key {{i}}","type":"httpBasic","description":"{{(bad ? "a\\u0000b" : "fine")}}","username":"u","password":"p"}"""),
                    }),
                };
                using (request)
                {
                    using var response = await client.SendAsync(request);
                    answers.Add((bad, what, response.StatusCode, await response.Content.ReadAsStringAsync()));
                }
            }
        })));

        var failedValid = answers.Where(a => !a.Bad && (int)a.Status >= 400).Select(a => $"{a.What}: {a.Status} {a.Body}").ToList();
        failedValid.ShouldBeEmpty(string.Join("\n", failedValid.Take(5)));
        answers.Where(a => a.Bad).ShouldAllBe(a => a.Status == HttpStatusCode.BadRequest);
        Fixture.Logs.Lines.ShouldNotContain(l => l.Contains("unexpected backend message", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task a_connection_left_out_of_step_by_a_refused_parameter_never_serves_again()
    {
        // Beneath the input checks: the same statement succeeds, is refused while binding (a NUL in text: SQLSTATE
        // 22021), and succeeds again, on whatever pooled connections the host's store hands out. Without the pool guard
        // the execution after a refusal fails with "Received unexpected backend message DataRow".
        var store = Host.Services.GetRequiredService<IDocumentStore>();
        var refused = 0;
        var failures = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var round = 0; round < 40; round++)
            {
                foreach (var value in new[] { "ok", "x\0y", "ok" })
                {
                    try
                    {
                        await using var session = store.LightweightSession();
                        session.QueueSqlCommand("select ?::text as value where ?::text is not null", value, value);
                        await session.SaveChangesAsync();
                    }
                    catch (Exception failure) when (value != "ok" && MartenLog.IsDataException(failure))
                    {
                        Interlocked.Increment(ref refused);
                    }
                    catch (Exception failure)
                    {
                        failures.Add($"{value}: {failure.GetBaseException().Message}");
                    }
                }
            }
        })));

        refused.ShouldBe(160, "every NUL was refused by PostgreSQL while binding");
        failures.ShouldBeEmpty(string.Join("\n", failures.Take(5)));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
