using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Refit;

namespace Webhooks.Client;

/// <summary>Creates <see cref="IWebhooksApi"/> clients with this API's JSON conventions.</summary>
public static class WebhooksClient
{
    /// <summary>The JSON settings the API speaks: camelCase names, enums as camelCase strings.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Refit settings for <see cref="IWebhooksApi"/>, for use with <c>AddRefitClient</c>.</summary>
    public static RefitSettings Settings { get; } = new(new SystemTextJsonContentSerializer(JsonOptions));

    /// <summary>A client for the API at <paramref name="baseAddress"/> that sends <paramref name="apiKey"/>.</summary>
    /// <param name="baseAddress">Where the API is, e.g. http://localhost:5080.</param>
    /// <param name="apiKey">An API key from Webhooks:Auth:ApiKeys.</param>
    public static IWebhooksApi Create(Uri baseAddress, string apiKey)
    {
        var http = new HttpClient { BaseAddress = baseAddress };
        return Create(http, apiKey);
    }

    /// <summary>A client over an existing <see cref="HttpClient"/> (its BaseAddress set) that sends <paramref name="apiKey"/>.</summary>
    /// <param name="http">The HTTP client to use; its BaseAddress must point at the API.</param>
    /// <param name="apiKey">An API key from Webhooks:Auth:ApiKeys.</param>
    public static IWebhooksApi Create(HttpClient http, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return RestService.For<IWebhooksApi>(http, Settings);
    }
}
