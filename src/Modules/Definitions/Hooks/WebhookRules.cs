using Marten;
using Webhooks.BuildingBlocks;
using Webhooks.Definitions.Catalog;
using Webhooks.Definitions.Contracts;
using Webhooks.Dispatch.Contracts;
using Webhooks.KeySafe.Contracts;
using Webhooks.Triggers;
using Wolverine;

namespace Webhooks.Definitions.Hooks;

/// <summary>Every rule a definition must follow, each failure a field error that says which rule and how to fix it.</summary>
public static class WebhookRules
{
    public const int MaxDescriptionLength = 2000;
    public const int MaxUrlLength = 2048;
    public const int MaxTriggerExpressionLength = 4000;
    public const int MaxHeaders = 20;
    public const double MaxPerSecond = 10_000;
    public const double MinPerSecond = 0.001;
    public const int MaxBurst = 10_000;
    public const int MaxConcurrencyLimit = 256;

    /// <summary>The rules that need nothing but the request.</summary>
    public static FieldErrors Check(DefineWebhook request)
    {
        var errors = new FieldErrors();
        if (Names.Problem(request.Name) is { } nameProblem)
        {
            errors.Add("name", $"The name {nameProblem}.");
        }

        errors.Check(request.Application is { Length: > 0 }, "application", "The application is required.");
        errors.Check(request.EventSource is { Length: > 0 }, "eventSource", "The event source is required.");
        errors.Check(
            request.Description is null || request.Description.Length <= MaxDescriptionLength,
            "description", $"The description must be at most {MaxDescriptionLength} characters.");
        if (UrlProblem(request.Url) is { } urlProblem)
        {
            errors.Add("url", urlProblem);
        }

        errors.Check(
            request.PayloadFormat is not null && PayloadFormats.All.Contains(request.PayloadFormat, StringComparer.Ordinal),
            "payloadFormat", $"The payload format must be one of: {string.Join(", ", PayloadFormats.All)}.");
        errors.Check(
            request.PostMode is not null && PostModes.All.Contains(request.PostMode, StringComparer.Ordinal),
            "postMode", $"The post mode must be one of: {string.Join(", ", PostModes.All)}.");

        Headers(errors, request.Headers);
        if (request.RateLimit is { } limit)
        {
            errors.Check(limit.PerSecond is >= MinPerSecond and <= MaxPerSecond, "rateLimit.perSecond",
                $"rateLimit.perSecond must be between {MinPerSecond} and {MaxPerSecond:0} (0.5: a call every two seconds).");
            errors.Check(limit.Burst is null or (>= 1 and <= MaxBurst), "rateLimit.burst", $"rateLimit.burst must be between 1 and {MaxBurst}.");
        }

        errors.Check(request.Ordering?.Key is null or { Length: > 0 and <= 100 } && request.Ordering?.Key?.Any(char.IsControl) != true,
            "ordering.key", "ordering.key must name a record field: at most 100 characters, no control characters.");
        errors.Check(request.MaxConcurrency is null or (>= 1 and <= MaxConcurrencyLimit), "maxConcurrency",
            $"maxConcurrency must be between 1 and {MaxConcurrencyLimit}.");

        if (!string.IsNullOrWhiteSpace(request.TriggerExpression))
        {
            if (request.TriggerExpression.Length > MaxTriggerExpressionLength)
            {
                errors.Add("triggerExpression", $"The trigger expression must be at most {MaxTriggerExpressionLength} characters.");
            }
            else
            {
                try
                {
                    TriggerExpression.Parse(request.TriggerExpression);
                }
                catch (TriggerSyntaxException syntax)
                {
                    errors.Add("triggerExpression", $"The trigger expression does not parse: {syntax.Message}.");
                }
            }
        }

        return errors;
    }

    /// <summary>The rules that ask the catalog and KeySafe (through its Contracts).</summary>
    public static async Task CheckReferences(
        FieldErrors errors, DefineWebhook request, IQuerySession session, IMessageBus bus, CancellationToken cancellation)
    {
        if (request.Application is { Length: > 0 } application && request.EventSource is { Length: > 0 } eventSource
            && await session.LoadAsync<EventSource>(EventSource.StreamId(application, eventSource), cancellation) is null)
        {
            errors.Add(
                "eventSource",
                $"The application '{application}' has no event source '{eventSource}' in the catalog; register it first " +
                $"(PUT /applications/{application}/event-sources/{eventSource}).");
        }

        // What can be known now of the address guard's verdict (a literal address, localhost), with its reason.
        if (UrlProblem(request.Url) is null && Uri.TryCreate(request.Url, UriKind.Absolute, out var target)
            && (await bus.InvokeAsync<TargetAddressCheck>(new CheckTargetAddress(target), cancellation)).Refusal is { } refusal)
        {
            errors.Add("url", refusal);
        }

        await CheckKeys(errors, request, bus, cancellation);
    }

    /// <summary>Custom headers: names a call may carry, each once; literal values a header may hold (key references are checked with KeySafe).</summary>
    private static void Headers(FieldErrors errors, IReadOnlyDictionary<string, HeaderValue>? headers)
    {
        if (headers is null)
        {
            return;
        }

        if (headers.Count > MaxHeaders)
        {
            errors.Add("headers", $"A webhook may have at most {MaxHeaders} custom headers.");
            return;
        }

        foreach (var (name, value) in headers)
        {
            if (OutboundHeaders.NameProblem(name) is { } nameProblem)
            {
                errors.Add("headers", nameProblem);
            }
            else if (value?.KeySafeKeyId is null && OutboundHeaders.ValueProblem(value?.Text) is { } valueProblem)
            {
                errors.Add("headers", $"{name}: {valueProblem}");
            }
            else if (value?.KeySafeKeyId is null && OutboundHeaders.Credential(name))
            {
                errors.Add("headers",
                    $"{name} carries a credential: its value may not be written in the definition (it would be shown in its history). " +
                    "Keep it in KeySafe and reference it: {\"keySafeKeyId\": \"...\"} (a bearer or apiKeyHeader key).");
            }
        }

        foreach (var repeated in headers.Keys.GroupBy(k => k, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            errors.Add("headers", $"'{repeated.Key}' is given {repeated.Count()} times (header names are case-insensitive); give it once.");
        }
    }

    /// <summary>
    /// The keys a definition names, asked of KeySafe: its own (any type) may not be sent to another origin than its
    /// URL's, and sets headers a custom header may not set too; a header's key must hold one value (bearer, apiKeyHeader).
    /// </summary>
    private static async Task CheckKeys(FieldErrors errors, DefineWebhook request, IMessageBus bus, CancellationToken cancellation)
    {
        Uri.TryCreate(request.Url, UriKind.Absolute, out var url);
        var taken = new List<string>();
        var authentication = request.Authentication?.KeySafeKeyId;
        if (request.KeySafeKeyId is not null && authentication is not null)
        {
            errors.Add("authentication", "Give keySafeKeyId (an httpBasic key, as in Hornbill) or authentication.keySafeKeyId (a key of any type), not both.");
        }

        foreach (var (field, keyId, hornbill) in new[] { ("keySafeKeyId", request.KeySafeKeyId, true), ("authentication.keySafeKeyId", authentication, false) })
        {
            if (keyId is null)
            {
                continue;
            }

            var key = await bus.InvokeAsync<KeyDescription>(new DescribeKey(keyId.Value), cancellation);
            if (!key.Exists)
            {
                errors.Add(field, $"There is no KeySafe key with id {keyId}.");
                continue;
            }

            if (hornbill && key.Type != KeyTypes.HttpBasic)
            {
                errors.Add(field,
                    $"The KeySafe key '{key.Name}' is of type {key.Type}; keySafeKeyId takes {KeyTypes.HttpBasic} keys (Hornbill's form). " +
                    "Give a key of another type as authentication: {\"keySafeKeyId\": \"...\"}.");
                continue;
            }

            OriginsAllow(errors, field, key, url, $"The KeySafe key '{key.Name}'");
            if (KeyTypes.SettingAuthorization.Contains(key.Type!, StringComparer.Ordinal))
            {
                taken.Add("Authorization");
            }

            if (key.HeaderName is { } own)
            {
                taken.Add(own);
            }
        }

        if (request.Headers is not { Count: > 0 and <= MaxHeaders } headers)
        {
            return; // none, or too many (refused already, and not worth a lookup each)
        }

        var described = new Dictionary<Guid, KeyDescription>();
        foreach (var (name, value) in headers)
        {
            if (taken.FirstOrDefault(t => t.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } set)
            {
                errors.Add("headers", $"'{name}' is set by the webhook's KeySafe key ({set}); remove the custom header or choose another key.");
            }

            if (value?.KeySafeKeyId is not { } headerKeyId)
            {
                continue;
            }

            if (!described.TryGetValue(headerKeyId, out var key))
            {
                described[headerKeyId] = key = await bus.InvokeAsync<KeyDescription>(new DescribeKey(headerKeyId), cancellation);
            }

            if (!key.Exists)
            {
                errors.Add("headers", $"{name}: there is no KeySafe key with id {headerKeyId}.");
            }
            else if (!KeyTypes.HeaderValues.Contains(key.Type!, StringComparer.Ordinal))
            {
                errors.Add("headers",
                    $"{name}: the KeySafe key '{key.Name}' is of type {key.Type}; a header's value may come from a key of type {string.Join(" or ", KeyTypes.HeaderValues)} only.");
            }
            else
            {
                OriginsAllow(errors, "headers", key, url, $"{name}: the KeySafe key '{key.Name}'");
            }
        }
    }

    private static void OriginsAllow(FieldErrors errors, string field, KeyDescription key, Uri? url, string what)
    {
        if (url is not null && !Origins.Allow(key.AllowedOrigins, url))
        {
            errors.Add(field,
                $"{what} may be sent only to {string.Join(", ", key.AllowedOrigins!)}; this webhook's URL is on " +
                $"{Origins.Of(url)}. Ask a keysafe user to allow that origin, or choose another key.");
        }
    }

    public static string? UrlProblem(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return "The URL is required.";
        }

        if (url.Length > MaxUrlLength)
        {
            return $"The URL must be at most {MaxUrlLength} characters.";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            return "The URL must be an absolute http or https URL, e.g. https://example.com/hooks.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "The URL may not carry credentials; keep them in KeySafe and set keySafeKeyId.";
        }

        return uri.Fragment.Length > 0 ? "The URL may not have a #fragment: it is never sent." : null;
    }
}
