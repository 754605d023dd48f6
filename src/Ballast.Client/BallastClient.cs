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
        // Dataset uploads and downloads stream gigabytes and the server profiles what it receives: allow for it.
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(30) };
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

    /// <summary>GET a JSON route (MLflow or Ballast) and return the answer as it came.</summary>
    public async Task<JsonElement> GetJsonAsync(string pathAndQuery, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => http.GetAsync(pathAndQuery, cancellationToken)).ConfigureAwait(false);
        return await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET a route that answers with text (Markdown, say).</summary>
    public async Task<string> GetTextAsync(string pathAndQuery, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => http.GetAsync(pathAndQuery, cancellationToken)).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST a JSON body to a route and return the answer as it came.</summary>
    public async Task<JsonElement> PostJsonAsync(string path, System.Text.Json.Nodes.JsonObject body, CancellationToken cancellationToken = default)
    {
        using var content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await SendAsync(() => http.PostAsync(path, content, cancellationToken)).ConfigureAwait(false);
        return await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>PUT a JSON body to a route (create or replace) and return the answer as it came.</summary>
    public async Task<JsonElement> PutJsonAsync(string path, System.Text.Json.Nodes.JsonObject body, CancellationToken cancellationToken = default)
    {
        using var content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await SendAsync(() => http.PutAsync(path, content, cancellationToken)).ConfigureAwait(false);
        return await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>DELETE a route; a refusal becomes <see cref="BallastApiException"/>.</summary>
    public async Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => http.DeleteAsync(path, cancellationToken)).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST a multipart form (a model file, say) and return the answer as it came.</summary>
    public async Task<JsonElement> PostFormAsync(string path, MultipartFormDataContent form, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => http.PostAsync(path, form, cancellationToken)).ConfigureAwait(false);
        return await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether dataset file content with this SHA-256 is on the server already.</summary>
    public async Task<bool> HasBlobAsync(string sha256, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/api/v1/datasets/blobs/{sha256}");
        using var response = await SendAsync(() => http.SendAsync(request, cancellationToken)).ConfigureAwait(false);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Streams dataset file content to the server, which refuses it unless it hashes to <paramref name="sha256"/>.</summary>
    public async Task PutBlobAsync(string sha256, Stream content, CancellationToken cancellationToken = default)
    {
        using var body = new StreamContent(content, 81_920);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendAsync(() => http.PutAsync($"/api/v1/datasets/blobs/{sha256}", body, cancellationToken)).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GETs a route that answers with a file and streams it into <paramref name="destination"/>.</summary>
    public async Task DownloadAsync(string pathAndQuery, Stream destination, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => http.GetAsync(pathAndQuery, HttpCompletionOption.ResponseHeadersRead, cancellationToken)).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await body.CopyToAsync(destination, 81_920, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// POSTs a file (streamed, as <paramref name="contentType"/>) to a route that answers with a file, streams the answer
    /// into <paramref name="destination"/> and returns the answer's <c>Ballast-*</c> headers.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> ExchangeFileAsync(string pathAndQuery, Stream content, string contentType, Stream destination, CancellationToken cancellationToken = default)
    {
        using var body = new StreamContent(content, 81_920);
        body.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, pathAndQuery) { Content = body };
        using var response = await SendAsync(() => http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        await using (var answer = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
        {
            await answer.CopyToAsync(destination, 81_920, cancellationToken).ConfigureAwait(false);
        }

        return response.Headers.Where(header => header.Key.StartsWith("Ballast-", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(header => header.Key, header => string.Join(",", header.Value), StringComparer.OrdinalIgnoreCase);
    }

    private async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send)
    {
        try
        {
            return await send().ConfigureAwait(false);
        }
        catch (HttpRequestException exception) when (exception.StatusCode is null)
        {
            throw new BallastApiException(System.Net.HttpStatusCode.ServiceUnavailable, "UNREACHABLE",
                $"Cannot reach Ballast at {http.BaseAddress}: {exception.Message.TrimEnd('.')}. Is `ballast server` running there (--url / BALLAST_URL)?");
        }
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        return document.RootElement.Clone();
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
