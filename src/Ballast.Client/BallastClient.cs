using System.Net.Http.Headers;
using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

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

    /// <summary>Items asked for in one request when following a paged list; the most MLflow's registered-model search allows.</summary>
    public const int DefaultPageSize = 1000;

    /// <summary>
    /// Every item of a paged GET list: asks for pages of <paramref name="pageSize"/> items, each with the token of the page
    /// before (<c>next_page_token</c>, or what <paramref name="parameters"/> names), until the server answers without one,
    /// so nothing past the first page is dropped. <paramref name="items"/> names the array in each answer;
    /// <paramref name="limit"/> stops after that many items.
    /// </summary>
    public IAsyncEnumerable<JsonElement> GetAllAsync(string pathAndQuery, string items, int? limit = null, int pageSize = DefaultPageSize,
        PageParameters? parameters = null, CancellationToken cancellationToken = default) =>
        ItemsAsync(PagesAsync(items, limit, pageSize, parameters ?? PageParameters.Mlflow, GetPage(pathAndQuery, parameters ?? PageParameters.Mlflow), cancellationToken), items, cancellationToken);

    /// <summary>Every item of a paged POST search (MLflow's <c>experiments/search</c>, <c>runs/search</c>), as <see cref="GetAllAsync"/>.</summary>
    public IAsyncEnumerable<JsonElement> PostAllAsync(string path, JsonObject body, string items, int? limit = null, int pageSize = DefaultPageSize,
        PageParameters? parameters = null, CancellationToken cancellationToken = default) =>
        ItemsAsync(PagesAsync(items, limit, pageSize, parameters ?? PageParameters.Mlflow, PostPage(path, body, parameters ?? PageParameters.Mlflow), cancellationToken), items, cancellationToken);

    /// <summary>
    /// A paged GET list read to the end (as <see cref="GetAllAsync"/>) as one answer: the first page's fields, with the
    /// items of every page and no next-page token, as if one page had held the whole list.
    /// </summary>
    public Task<JsonElement> GetListAsync(string pathAndQuery, string items, int? limit = null, int pageSize = DefaultPageSize,
        PageParameters? parameters = null, CancellationToken cancellationToken = default)
    {
        var names = parameters ?? PageParameters.Mlflow;
        return MergeAsync(PagesAsync(items, limit, pageSize, names, GetPage(pathAndQuery, names), cancellationToken), items, names);
    }

    /// <summary>A paged POST search read to the end as one answer, as <see cref="GetListAsync"/>.</summary>
    public Task<JsonElement> PostListAsync(string path, JsonObject body, string items, int? limit = null, int pageSize = DefaultPageSize,
        PageParameters? parameters = null, CancellationToken cancellationToken = default)
    {
        var names = parameters ?? PageParameters.Mlflow;
        return MergeAsync(PagesAsync(items, limit, pageSize, names, PostPage(path, body, names), cancellationToken), items, names);
    }

    private Func<int, string?, CancellationToken, Task<JsonElement>> GetPage(string pathAndQuery, PageParameters names)
    {
        var separator = pathAndQuery.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        return (size, token, cancel) => GetJsonAsync(
            string.Create(CultureInfo.InvariantCulture, $"{pathAndQuery}{separator}{names.MaxResults}={size}")
            + (token is null ? "" : $"&{names.PageToken}={Uri.EscapeDataString(token)}"), cancel);
    }

    private Func<int, string?, CancellationToken, Task<JsonElement>> PostPage(string path, JsonObject body, PageParameters names) => (size, token, cancel) =>
    {
        var page = body.DeepClone().AsObject();
        page[names.MaxResults] = size;
        if (token is not null)
        {
            page[names.PageToken] = token;
        }

        return PostJsonAsync(path, page, cancel);
    };

    /// <summary>The one paging loop: each page with how many of its items count (fewer on the last, at the limit).</summary>
    private static async IAsyncEnumerable<(JsonElement Page, int Count)> PagesAsync(string items, int? limit, int pageSize, PageParameters names,
        Func<int, string?, CancellationToken, Task<JsonElement>> readPage, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        if (limit is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "A limit cannot be negative.");
        }

        var remaining = limit ?? int.MaxValue;
        string? token = null;
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        while (remaining > 0)
        {
            var page = await readPage(Math.Min(pageSize, remaining), token, cancellationToken).ConfigureAwait(false);
            var count = Math.Min(remaining, page.TryGetProperty(items, out var list) && list.ValueKind == JsonValueKind.Array ? list.GetArrayLength() : 0);
            remaining -= count;
            yield return (page, count);
            token = page.TryGetProperty(names.NextPageToken, out var next) ? next.ValueKind switch
            {
                JsonValueKind.String => next.GetString(),
                JsonValueKind.Number => next.GetRawText(),
                _ => null,
            } : null;
            if (string.IsNullOrEmpty(token))
            {
                yield break;
            }

            // A server that hands back a token it gave before would loop forever: say so instead.
            if (!tokens.Add(token))
            {
                throw new BallastApiException(System.Net.HttpStatusCode.BadGateway, "PAGE_TOKEN_REPEATED",
                    $"The server answered with the same {names.NextPageToken} twice while listing {items}; the list cannot be completed.");
            }
        }
    }

    private static async IAsyncEnumerable<JsonElement> ItemsAsync(IAsyncEnumerable<(JsonElement Page, int Count)> pages, string items,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (page, count) in pages.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (count > 0)
            {
                foreach (var item in page.GetProperty(items).EnumerateArray().Take(count))
                {
                    yield return item;
                }
            }
        }
    }

    private static async Task<JsonElement> MergeAsync(IAsyncEnumerable<(JsonElement Page, int Count)> pages, string items, PageParameters names)
    {
        var read = new List<(JsonElement Page, int Count)>();
        await foreach (var page in pages.ConfigureAwait(false))
        {
            read.Add(page);
        }

        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            // A limit of 0 reads no page: the answer is then just the empty list.
            foreach (var property in read.Count == 0 ? [] : read[0].Page.EnumerateObject())
            {
                if (property.Name != items && property.Name != names.NextPageToken)
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteStartArray(items);
            foreach (var (page, count) in read.Where(page => page.Count > 0))
            {
                foreach (var item in page.GetProperty(items).EnumerateArray().Take(count))
                {
                    item.WriteTo(writer);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
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
