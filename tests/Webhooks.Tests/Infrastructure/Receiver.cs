using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Webhooks.Tests.Infrastructure;

/// <summary>A request a receiver got, and the status it answered.</summary>
public sealed record Received(
    string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At, int Status = 200,
    string? ClientCertificate = null)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A real HTTP target: Kestrel on a free loopback port inside the test. It records every request and answers with
/// <see cref="Respond"/> (200 by default), which a test may change at any time.
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<Received> requests = new();
    private readonly SemaphoreSlim arrivals = new(0);

    private Receiver(WebApplication app) => this.app = app;

    public Func<HttpContext, int, Task> Respond { get; set; } = (context, _) => Task.CompletedTask;

    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<Received> Requests => requests.ToList();

    public static Task<Receiver> Start() => Start(tls: false);

    /// <summary>
    /// A receiver on https, with <see cref="TestCertificates.Server"/> (which the test hosts trust), that asks every
    /// caller for a client certificate and records its subject (none sent: the request is still answered).
    /// </summary>
    public static Task<Receiver> StartTls() => Start(tls: true);

    private static async Task<Receiver> Start(bool tls)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificate = TestCertificates.Server;
            https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = (_, _, _) => true; // recorded, judged by the test
        })).UseUrls(tls ? "https://127.0.0.1:0" : "http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.Run(receiver.Handle);
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First().TrimEnd('/') + "/hook");
        return receiver;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests arrived in all; fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<Received>> WaitFor(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (requests.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await arrivals.WaitAsync(left))
            {
                throw new TimeoutException($"Expected {count} requests at {Url}, got {requests.Count}.");
            }
        }

        return Requests;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        arrivals.Dispose();
    }

    private async Task Handle(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var number = requests.Count + 1;
        context.Request.Body = new MemoryStream(body.ToArray(), writable: false); // Respond may read it too
        try
        {
            await Respond(context, number);
        }
        finally
        {
            requests.Enqueue(new Received(
                context.Request.Method, context.Request.Path, headers, body.ToArray(), DateTimeOffset.UtcNow, context.Response.StatusCode,
                context.Connection.ClientCertificate?.Subject));
            arrivals.Release();
        }
    }
}
