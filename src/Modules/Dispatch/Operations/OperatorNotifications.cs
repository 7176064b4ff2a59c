using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Delivery;
using Webhooks.Dispatch.Flow;
using Webhooks.Dispatch.Outbound;
using Wolverine;

namespace Webhooks.Dispatch.Operations;

/// <summary><c>Webhooks:Operations</c>: where operators hear of targets in trouble.</summary>
public sealed class OperationsOptions
{
    public const string Section = "Webhooks:Operations";

    /// <summary>By name: <c>Webhooks:Operations:Targets:&lt;name&gt;:Url</c> and <c>:Secret</c> (<c>whsec_</c> + base64, as webhooks' signing secrets).</summary>
    public Dictionary<string, OperatorTarget> Targets { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public sealed class OperatorTarget
{
    public string? Url { get; set; }

    /// <summary>Signs the notifications (Standard Webhooks). Never logged or shown.</summary>
    public string? Secret { get; set; }
}

/// <summary>Every rule <c>Webhooks:Operations</c> must follow, checked before the host starts.</summary>
public sealed class OperationsOptionsValidator : IValidateOptions<OperationsOptions>
{
    public ValidateOptionsResult Validate(string? name, OperationsOptions options)
    {
        var problems = new List<string>();
        foreach (var (target, settings) in options.Targets)
        {
            if (!Uri.TryCreate(settings.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                problems.Add($"Targets:{target}:Url must be an absolute http(s) URL.");
            }

            if (!ValidSecret(settings.Secret))
            {
                problems.Add($"Targets:{target}:Secret must be whsec_ followed by base64 of at least 24 bytes (e.g. \"whsec_$(openssl rand -base64 32)\").");
            }
        }

        return problems.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{OperationsOptions.Section} is not valid: " + string.Join(" ", problems));
    }

    private static bool ValidSecret(string? secret)
    {
        if (secret is null || !secret.StartsWith(Signing.SecretPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var buffer = new byte[secret.Length];
        return Convert.TryFromBase64String(secret[Signing.SecretPrefix.Length..], buffer, out var written) && written >= 24;
    }
}

/// <summary>The notification types operators receive (the <c>type</c> field).</summary>
public static class NotificationTypes
{
    public const string BreakerOpened = "webhook.breakerOpened";
    public const string BreakerClosed = "webhook.breakerClosed";
    public const string Disabled = "webhook.disabled";
    public const string DeliveryFailed = "delivery.failed";
}

/// <summary>
/// One notification to one operator target, with its body as signed; a durable message, retried on the delivery
/// schedule. Its <paramref name="NotificationId"/> is the <c>webhook-id</c> header, the same on every retry.
/// </summary>
public sealed record NotifyOperator(string Target, Guid NotificationId, byte[] Body, int Attempt = 1);

/// <summary>
/// Writes operator notifications (issue 15): JSON <c>{type, webhook, webhookId, url, at, ...}</c>, one message per
/// configured target, sent in the same commit as what they tell of. Notifications are not webhooks: no breaker, no
/// notification about a notification (they never loop on themselves).
/// </summary>
public sealed class OperatorNotifications(IOptions<OperationsOptions> configured, Bins.PublicAddress address)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public bool Any => configured.Value.Targets.Count > 0;

    public IReadOnlyList<NotifyOperator> Breaker(WebhookBreakerChanged change) => For(change.Opened
        ? new
        {
            type = NotificationTypes.BreakerOpened, webhook = change.Name, webhookId = change.WebhookId, url = change.Url, at = change.At,
            consecutiveFailures = change.ConsecutiveFailures, failingSince = change.FailingSince, nextProbeAt = change.NextProbeAt,
            lastError = change.LastError, link = Link(change.Name),
        }
        : (object)new
        {
            type = NotificationTypes.BreakerClosed, webhook = change.Name, webhookId = change.WebhookId, url = change.Url, at = change.At,
            link = Link(change.Name),
        });

    public IReadOnlyList<NotifyOperator> Disabled(WebhookDisabledBySystem disabled) => For(new
    {
        type = NotificationTypes.Disabled, webhook = disabled.Name, webhookId = disabled.WebhookId, url = disabled.Url, at = disabled.At,
        reason = disabled.Reason, link = Link(disabled.Name),
    });

    public IReadOnlyList<NotifyOperator> DeliveryFailed(WebhookDefinition webhook, DeliverWebhook delivery, string reason, DateTimeOffset at) => For(new
    {
        type = NotificationTypes.DeliveryFailed, webhook = webhook.Name, webhookId = webhook.Id, url = webhook.Url, at,
        delivery = new { id = delivery.DeliveryId, eventId = delivery.EventId, attempts = delivery.Attempt, reason },
        link = new Uri(address.BaseUrl, $"deliveries/{delivery.DeliveryId}").ToString(),
    });

    private string Link(string webhook) => new Uri(address.BaseUrl, $"webhooks/{Uri.EscapeDataString(webhook)}").ToString();

    private List<NotifyOperator> For(object notification)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(notification, Json);
        var id = Guid.CreateVersion7();
        return configured.Value.Targets.Keys.Select(target => new NotifyOperator(target, id, body)).ToList();
    }
}

/// <summary>
/// Definitions recorded a breaker change or a disabling by the system (once per change, whichever host asked for it):
/// a notification to each operator target.
/// </summary>
public static class SystemChangeNotificationHandler
{
    public static IEnumerable<NotifyOperator> Handle(WebhookBreakerChanged change, OperatorNotifications notifications) =>
        notifications.Any ? notifications.Breaker(change) : [];

    public static IEnumerable<NotifyOperator> Handle(WebhookDisabledBySystem disabled, OperatorNotifications notifications) =>
        notifications.Any ? notifications.Disabled(disabled) : [];
}

/// <summary>Sends one notification: signed, through the outbound client (the address guard applies), retried on failure.</summary>
public static partial class NotifyOperatorHandler
{
    [LoggerMessage(LogLevel.Warning, "Operator notification {Id} dropped: the target {Target} is no longer configured")]
    private static partial void LogDropped(ILogger logger, Guid id, string target);

    [LoggerMessage(LogLevel.Debug, "Operator notification {Id} sent to {Target}")]
    private static partial void LogSent(ILogger logger, string id, string target);

    [LoggerMessage(LogLevel.Warning, "Operator notification {Id}: the target {Target} {Outcome}; attempt {Attempt} follows in {Delay}")]
    private static partial void LogRetrying(ILogger logger, string id, string target, string outcome, int attempt, TimeSpan delay);

    [LoggerMessage(LogLevel.Error, "Operator notification {Id}: the target {Target} {Outcome}; given up after {Attempts} attempts")]
    private static partial void LogGivenUp(ILogger logger, string id, string target, string outcome, int attempts);

    public static async Task Handle(
        NotifyOperator notification, IOptions<OperationsOptions> operations, OutboundHttp http, DispatchOptions options, TimeProvider time,
        IMessageContext context, ILogger<OperatorNotifications> logger, CancellationToken cancellation)
    {
        if (!operations.Value.Targets.TryGetValue(notification.Target, out var target))
        {
            LogDropped(logger, notification.NotificationId, notification.Target);
            return;
        }

        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var id = notification.NotificationId.ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(notification.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation("webhook-id", id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", Signing.Header([target.Secret!], id, timestamp, notification.Body));
        string outcome;
        TimeSpan? retryAfter = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(options.AsyncTimeout);
        try
        {
            using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (response.IsSuccessStatusCode)
            {
                LogSent(logger, id, notification.Target);
                return;
            }

            outcome = $"answered {(int)response.StatusCode}";
            retryAfter = response.Headers.RetryAfter?.Delta;
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            outcome = "did not answer in time";
        }
        catch (HttpRequestException failed)
        {
            outcome = $"could not be reached ({failed.HttpRequestError})";
        }

        if (RetryPolicy.NextDelay(options, notification.Attempt, retryAfter) is { } delay)
        {
            LogRetrying(logger, id, notification.Target, outcome, notification.Attempt + 1, delay);
            await context.ScheduleAsync(notification with { Attempt = notification.Attempt + 1 }, time.GetUtcNow() + delay);
        }
        else
        {
            LogGivenUp(logger, id, notification.Target, outcome, notification.Attempt);
        }
    }
}
