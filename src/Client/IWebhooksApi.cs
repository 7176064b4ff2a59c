using Refit;
using Webhooks.Contracts;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.KeySafe.Contracts;

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

    /// <summary>Creates a KeySafe key (keysafe role). The answer never contains the password.</summary>
    /// <param name="key">The key, with its secret.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/keysafe/keys")]
    Task<KeyView> CreateKey([Body] CreateKey key, CancellationToken cancellationToken = default);

    /// <summary>Lists KeySafe keys by name (keysafe, auditor or admin role).</summary>
    /// <param name="after">The <c>next</c> cursor of the previous page.</param>
    /// <param name="limit">Page size, 1 to 500 (100 when absent).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/keysafe/keys")]
    Task<Page<KeyView>> ListKeys(string? after = null, int? limit = null, CancellationToken cancellationToken = default);

    /// <summary>Reads one KeySafe key (keysafe, auditor or admin role).</summary>
    /// <param name="id">The key's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/keysafe/keys/{id}")]
    Task<KeyView> GetKey(Guid id, CancellationToken cancellationToken = default);

    /// <summary>Renames a key or changes its description (keysafe role).</summary>
    /// <param name="id">The key's id.</param>
    /// <param name="changes">The fields to change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Patch("/keysafe/keys/{id}")]
    Task<KeyView> UpdateKey(Guid id, [Body] UpdateKey changes, CancellationToken cancellationToken = default);

    /// <summary>Replaces a key's secret (keysafe role).</summary>
    /// <param name="id">The key's id.</param>
    /// <param name="secret">The new credential.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Put("/keysafe/keys/{id}/secret")]
    Task<KeyView> RotateKeySecret(Guid id, [Body] RotateKeySecret secret, CancellationToken cancellationToken = default);

    /// <summary>Deletes a key and destroys its secret (keysafe role); refused with 409 while webhooks use it.</summary>
    /// <param name="id">The key's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Delete("/keysafe/keys/{id}")]
    Task DeleteKey(Guid id, CancellationToken cancellationToken = default);

    /// <summary>Every change to a key, oldest first (keysafe or auditor role).</summary>
    /// <param name="id">The key's id.</param>
    /// <param name="after">The <c>next</c> cursor of the previous page.</param>
    /// <param name="limit">Page size, 1 to 500 (100 when absent).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/keysafe/keys/{id}/history")]
    Task<Page<KeyChange>> GetKeyHistory(Guid id, string? after = null, int? limit = null, CancellationToken cancellationToken = default);

    /// <summary>Re-encrypts every secret with the active master key (keysafe role).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/keysafe/rewrap")]
    Task<RewrapResult> RewrapSecrets(CancellationToken cancellationToken = default);

    /// <summary>Defines a webhook (admin role).</summary>
    /// <param name="webhook">The definition.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/webhooks")]
    Task<WebhookDefinition> DefineWebhook([Body] DefineWebhook webhook, CancellationToken cancellationToken = default);

    /// <summary>Lists live webhooks by name (admin or auditor role), optionally filtered.</summary>
    /// <param name="application">Only this application's webhooks.</param>
    /// <param name="eventSource">Only this event source's webhooks.</param>
    /// <param name="enabled">Only enabled (true) or disabled (false) webhooks.</param>
    /// <param name="after">The <c>next</c> cursor of the previous page.</param>
    /// <param name="limit">Page size, 1 to 500 (100 when absent).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="q">Only webhooks whose name contains this (case-insensitive).</param>
    [Get("/webhooks")]
    Task<Page<WebhookDefinition>> ListWebhooks(
        string? application = null, string? eventSource = null, bool? enabled = null, string? after = null, int? limit = null,
        string? q = null, CancellationToken cancellationToken = default);

    /// <summary>Reads a webhook (admin or auditor role), or with <paramref name="asOf"/> as it was then.</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="asOf">A past moment, to read the definition as it was then.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/webhooks/{name}")]
    Task<WebhookDefinition> GetWebhook(string name, [Query(Format = "O")] DateTimeOffset? asOf = null, CancellationToken cancellationToken = default);

    /// <summary>Replaces a webhook's definition (admin role); with <paramref name="ifMatch"/>, only if it is still at that version.</summary>
    /// <param name="name">The webhook's current name.</param>
    /// <param name="webhook">The whole new definition.</param>
    /// <param name="ifMatch">The version you read, e.g. "3" (412 when someone changed it since).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Put("/webhooks/{name}")]
    Task<WebhookDefinition> UpdateWebhook(
        string name, [Body] DefineWebhook webhook, [Header("If-Match")] string? ifMatch = null, CancellationToken cancellationToken = default);

    /// <summary>Enables a webhook (admin role).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="ifMatch">The version you read, if you want the change refused when it moved on.</param>
    /// <param name="pending">What becomes of the deliveries parked while it was disabled: <c>resume</c> (the default) or <c>fail</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/webhooks/{name}/enable")]
    Task<WebhookDefinition> EnableWebhook(
        string name, [Header("If-Match")] string? ifMatch = null, [Query] string? pending = null, CancellationToken cancellationToken = default);

    /// <summary>Disables a webhook (admin role).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="reason">Why, for its history.</param>
    /// <param name="ifMatch">The version you read, if you want the change refused when it moved on.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/webhooks/{name}/disable")]
    Task<WebhookDefinition> DisableWebhook(
        string name, string? reason = null, [Header("If-Match")] string? ifMatch = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a webhook (admin role).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="ifMatch">The version you read, if you want the deletion refused when it moved on.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Delete("/webhooks/{name}")]
    Task DeleteWebhook(string name, [Header("If-Match")] string? ifMatch = null, CancellationToken cancellationToken = default);

    /// <summary>Every configuration change of a webhook (admin or auditor role).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="after">The <c>next</c> cursor of the previous page.</param>
    /// <param name="limit">Page size, 1 to 500 (100 when absent).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/webhooks/{name}/history")]
    Task<Page<WebhookChange>> GetWebhookHistory(string name, string? after = null, int? limit = null, CancellationToken cancellationToken = default);

    /// <summary>The webhook's signing secret(s), to verify signatures (admin role).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/webhooks/{name}/signing-secret")]
    Task<SigningSecretView> GetSigningSecret(string name, CancellationToken cancellationToken = default);

    /// <summary>Issues a new signing secret; the previous one keeps signing for the grace period (admin role).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/webhooks/{name}/signing-secret/rotate")]
    Task<SigningSecretView> RotateSigningSecret(string name, CancellationToken cancellationToken = default);

    /// <summary>Publishes an entity event (publisher role). A veto (422) throws <see cref="ApiException"/> with the problem.</summary>
    /// <param name="entityEvent">The event.</param>
    /// <param name="idempotencyKey">A key that makes repeats within 24 h return the first answer.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/events")]
    Task<PublishResponse> PublishEvent([Body] PublishEntityEvent entityEvent, [Header("Idempotency-Key")] string? idempotencyKey = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Publishes 1 to 1,000 events at once (publisher role), recorded in one commit. Each event's result (in order) has
    /// the status <c>POST /events</c> would have answered: a veto or a refused event is a result, not an exception.
    /// Each event may carry its own <see cref="PublishEntityEvent.IdempotencyKey"/>.
    /// </summary>
    /// <param name="batch">The events.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/events/batch")]
    Task<PublishBatchResponse> PublishEvents([Body] PublishEntityEvents batch, CancellationToken cancellationToken = default);

    /// <summary>Deliveries, newest first (auditor or admin role).</summary>
    /// <param name="webhook">Only this webhook's.</param>
    /// <param name="status">Only pending, succeeded, failed or skipped ones.</param>
    /// <param name="eventId">Only this event's.</param>
    /// <param name="from">Created at or after.</param>
    /// <param name="until">Created before (the <c>to</c> query parameter).</param>
    /// <param name="after">The <c>next</c> cursor of the previous page.</param>
    /// <param name="limit">Page size, 1 to 500 (100 when absent).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/deliveries")]
    Task<Page<DeliveryView>> ListDeliveries(
        string? webhook = null, string? status = null, Guid? eventId = null, [Query(Format = "O")] DateTimeOffset? from = null,
        [Query(Format = "O"), AliasAs("to")] DateTimeOffset? until = null, string? after = null, int? limit = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// A delivery with its attempts (auditor or admin role). Archived by retention: a 410 <see cref="Refit.ApiException"/>
    /// whose problem has <c>archivedAt</c>; <see cref="GetEvent"/> still shows it.
    /// </summary>
    /// <param name="id">The delivery's id (the webhook-id header).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/deliveries/{id}")]
    Task<DeliveryView> GetDelivery(Guid id, CancellationToken cancellationToken = default);

    /// <summary>Delivers again now, with the same webhook-id (admin role); 410 once retention removed its payload or archived it.</summary>
    /// <param name="id">The delivery's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/deliveries/{id}/redeliver")]
    Task<DeliveryView> Redeliver(Guid id, CancellationToken cancellationToken = default);

    /// <summary>A published event, its verdict and deliveries (auditor or admin role); read from the archive once retention archived it (<c>ArchivedAt</c>).</summary>
    /// <param name="eventId">The event's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/events/{eventId}")]
    Task<EventView> GetEvent(Guid eventId, CancellationToken cancellationToken = default);

    /// <summary>Redelivers every failed delivery of a webhook created since then (admin role).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="since">Since when, e.g. {"since":"2026-11-29T00:00:00Z"}.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/webhooks/{name}/recover")]
    Task<RecoverResult> RecoverWebhook(string name, [Body] RecoverWindow since, CancellationToken cancellationToken = default);

    /// <summary>A webhook's delivery statistics in [from, to) (auditor or admin role).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="from">The window's start.</param>
    /// <param name="until">The window's end (the <c>to</c> query parameter).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="series">Also the window (unless given, the 24 whole hours ending with the current one) in 24 buckets.</param>
    [Get("/webhooks/{name}/stats")]
    Task<WebhookStats> GetWebhookStats(
        string name, [Query(Format = "O")] DateTimeOffset? from = null, [Query(Format = "O"), AliasAs("to")] DateTimeOffset? until = null,
        bool? series = null, CancellationToken cancellationToken = default);

    /// <summary>Every configuration change in every module, newest first (auditor or admin role).</summary>
    /// <param name="from">Changes at or after.</param>
    /// <param name="until">Changes before (the <c>to</c> query parameter).</param>
    /// <param name="after">The <c>next</c> cursor of the previous page.</param>
    /// <param name="limit">Page size, 1 to 500 (100 when absent).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="moduleName">Only this module's changes (the <c>module</c> query parameter): <c>definitions</c> or <c>keysafe</c>.</param>
    /// <param name="subjectId">Only the changes of this webhook, key or event source (its id, an entry's <c>subjectId</c>).</param>
    [Get("/audit")]
    Task<Page<AuditEntry>> GetAuditLog(
        [Query(Format = "O")] DateTimeOffset? from = null, [Query(Format = "O"), AliasAs("to")] DateTimeOffset? until = null,
        string? after = null, int? limit = null, [AliasAs("module")] string? moduleName = null, Guid? subjectId = null, CancellationToken cancellationToken = default);

    /// <summary>Rebuilds every read model from the events (admin role).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/admin/projections/rebuild")]
    Task<IReadOnlyList<ProjectionRebuilt>> RebuildProjections(CancellationToken cancellationToken = default);

    /// <summary>Creates a request bin (admin role).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/bins")]
    Task<BinView> CreateBin(CancellationToken cancellationToken = default);

    /// <summary>What a bin captured, newest first (admin role).</summary>
    /// <param name="id">The bin's id.</param>
    /// <param name="limit">At most this many, 1 to 100.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/bins/{id}/requests")]
    Task<Page<CapturedRequestView>> ListBinRequests(Guid id, int? limit = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a bin and what it captured (admin role).</summary>
    /// <param name="id">The bin's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Delete("/bins/{id}")]
    Task DeleteBin(Guid id, CancellationToken cancellationToken = default);

    /// <summary>Sends the event source's sample record to the webhook now and answers the attempt (admin role).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/webhooks/{name}/test")]
    Task<WebhookTestResult> TestWebhook(string name, CancellationToken cancellationToken = default);

    /// <summary>Who this API key is: its name, roles and applications (any role).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/me")]
    Task<CallerView> GetMe(CancellationToken cancellationToken = default);

    /// <summary>How each webhook has been doing lately: its latest delivery and the success rate of its last 100 (admin or auditor role).</summary>
    /// <param name="webhooks">Webhook names, separated by commas (at most 500).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/deliveries/activity")]
    Task<IReadOnlyList<WebhookActivity>> GetWebhookActivity(string webhooks, CancellationToken cancellationToken = default);

    /// <summary>Every webhook's deliveries over a window, by default the 24 whole hours ending with the current one (admin or auditor role).</summary>
    /// <param name="from">The window's start.</param>
    /// <param name="until">The window's end (the <c>to</c> query parameter).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/stats")]
    Task<DeliveryOverview> GetDeliveryOverview(
        [Query(Format = "O")] DateTimeOffset? from = null, [Query(Format = "O"), AliasAs("to")] DateTimeOffset? until = null,
        CancellationToken cancellationToken = default);

    /// <summary>The bins that have not expired, newest first (admin role).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/bins")]
    Task<Page<BinView>> ListBins(CancellationToken cancellationToken = default);

    /// <summary>Checks a trigger expression: whether it parses, and whether it matches a record or a sample (admin or auditor role).</summary>
    /// <param name="check">The expression, and what to try it on.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/trigger-expressions/check")]
    Task<TriggerExpressionCheck> CheckTriggerExpression([Body] CheckTriggerExpression check, CancellationToken cancellationToken = default);
}
