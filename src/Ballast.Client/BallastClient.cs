using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ballast.Client;

/// <summary>
/// Typed HTTP client for a Ballast server, used by the CLI's client commands and by tests.
/// Non-success answers become <see cref="BallastApiException"/> carrying the server's own message.
/// </summary>
public sealed class BallastClient(HttpClient http)
{
    public static BallastClient Create(Uri baseAddress, string? apiKey = null)
    {
        var http = new HttpClient { BaseAddress = baseAddress };
        if (!string.IsNullOrEmpty(apiKey))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return new BallastClient(http);
    }

    public HttpClient Http => http;

    public Task<ServerVersion> GetVersionAsync(CancellationToken cancellationToken = default) =>
        GetAsync("/version", ClientJsonContext.Default.ServerVersion, cancellationToken);

    public async Task<IReadOnlyList<ApiKeySummary>> ListKeysAsync(bool includeRevoked = false, CancellationToken cancellationToken = default) =>
        (await GetAsync($"/api/v1/keys?includeRevoked={(includeRevoked ? "true" : "false")}", ClientJsonContext.Default.ApiKeyList, cancellationToken).ConfigureAwait(false)).Keys;

    public async Task<CreatedApiKeySummary> CreateKeyAsync(string name, string role, CancellationToken cancellationToken = default)
    {
        using var response = await http.PostAsJsonAsync("/api/v1/keys", new CreateKey(name, role), ClientJsonContext.Default.CreateKey, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, ClientJsonContext.Default.CreatedApiKeySummary, cancellationToken).ConfigureAwait(false);
    }

    public async Task RevokeKeyAsync(string name, CancellationToken cancellationToken = default)
    {
        using var response = await http.DeleteAsync($"/api/v1/keys/{Uri.EscapeDataString(name)}", cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> GetAsync<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, type, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
            ?? throw new BallastApiException(response.StatusCode, "EMPTY_RESPONSE", "The server answered with an empty body.");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string code = "HTTP_" + (int)response.StatusCode, message = body;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            code = root.TryGetProperty("code", out var c) ? c.GetString() ?? code : root.TryGetProperty("error_code", out var e) ? e.GetString() ?? code : code;
            message = root.TryGetProperty("detail", out var d) ? d.GetString() ?? body
                : root.TryGetProperty("message", out var m) ? m.GetString() ?? body
                : root.TryGetProperty("error", out var r) ? r.GetString() ?? body : body;
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's error page, say): keep the raw text.
        }

        throw new BallastApiException(response.StatusCode, code, message);
    }
}
