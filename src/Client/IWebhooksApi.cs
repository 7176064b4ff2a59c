using Refit;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;

namespace Webhooks.Client;

/// <summary>The Webhooks HTTP API. Create one with <see cref="WebhooksClient.Create(Uri, string)"/>.</summary>
/// <remarks>Failed calls throw <see cref="ApiException"/>; problem+json answers arrive as <see cref="ValidationApiException"/> with the problem's fields.</remarks>
public interface IWebhooksApi
{
    /// <summary>Registers an event source, or changes it when it exists (PUT is idempotent).</summary>
    /// <param name="application">The application that publishes the event source.</param>
    /// <param name="name">The event source's name within the application.</param>
    /// <param name="eventSource">What the event source is.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Put("/applications/{application}/event-sources/{name}")]
    Task<EventSourceView> RegisterEventSource(string application, string name, [Body] RegisterEventSource eventSource, CancellationToken cancellationToken = default);

    /// <summary>Lists applications that have event sources, by name.</summary>
    /// <param name="after">The <c>next</c> cursor of the previous page.</param>
    /// <param name="limit">Page size, 1 to 500 (100 when absent).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/applications")]
    Task<Page<ApplicationView>> ListApplications(string? after = null, int? limit = null, CancellationToken cancellationToken = default);

    /// <summary>Lists an application's event sources, by name.</summary>
    /// <param name="application">The application.</param>
    /// <param name="after">The <c>next</c> cursor of the previous page.</param>
    /// <param name="limit">Page size, 1 to 500 (100 when absent).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/applications/{application}/event-sources")]
    Task<Page<EventSourceView>> ListEventSources(string application, string? after = null, int? limit = null, CancellationToken cancellationToken = default);
}
