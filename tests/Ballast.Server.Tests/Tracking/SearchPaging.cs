using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Ballast.Tests.Tracking;

/// <summary>Paging through a search over HTTP, whatever its route and verb, and reading its refusals.</summary>
internal static class SearchPaging
{
    /// <summary>
    /// A token exactly as the release before query-tied tokens wrote it for every search, base64 of
    /// <c>{"offset": N}</c> (MLflow's <c>SearchUtils.create_page_token</c>).
    /// </summary>
    public static string PreviousReleaseToken(long offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"offset\": {offset}}}"));

    /// <summary>Every item of a search, asking page after page with the answer's <c>next_page_token</c> until there is none.</summary>
    public static async Task<List<string>> AllAsync(Func<string?, Task<JsonElement>> page, string items, Func<JsonElement, string> value)
    {
        var all = new List<string>();
        string? token = null;
        do
        {
            var body = await page(token);
            if (body.TryGetProperty(items, out var list))
            {
                all.AddRange(list.EnumerateArray().Select(value));
            }

            token = body.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
            all.Count.ShouldBeLessThan(1000, "a search that never ends");
        }
        while (token is not null);

        return all;
    }

    public static async Task<JsonElement> GetAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A request that must be refused with a 400: its media type and body.</summary>
    public static async Task<(string? MediaType, JsonElement Error)> RefusedAsync(HttpClient client, string url, object? body = null)
    {
        using var response = body is null
            ? await client.GetAsync(url, TestContext.Current.CancellationToken)
            : await client.PostAsJsonAsync(url, body, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, text);
        return (response.Content.Headers.ContentType?.MediaType, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>An MLflow route's refusal: INVALID_PARAMETER_VALUE with <paramref name="message"/>.</summary>
    public static async Task ShouldRefuseAsync(HttpClient client, string url, object? body, string message)
    {
        var (_, error) = await RefusedAsync(client, url, body);
        error.GetProperty("error_code").GetString().ShouldBe("INVALID_PARAMETER_VALUE");
        error.GetProperty("message").GetString().ShouldBe(message);
    }
}
