using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ballast.Tests.Tracking;

/// <summary>Calls an MLflow REST route that must succeed, returning its JSON (the body is in the failure message otherwise).</summary>
internal static class MlflowHttp
{
    public const string Api = "/api/2.0/mlflow";

    public static async Task<JsonElement> PostAsync(HttpClient client, string route, object body)
    {
        using var response = await client.PostAsJsonAsync($"{Api}/{route}", body, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
