using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ballast.Tests.Serving;

/// <summary>Regime endpoints on a real Kestrel port: feature rules, posted signals with hysteresis, and a volatility detector.</summary>
public sealed class RegimeServingTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rules_route_by_features_and_a_posted_signal_switches_the_regime_with_hysteresis()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        using (var created = await client.PutAsJsonAsync("/api/v1/endpoints/iris", new
        {
            policy = "regime",
            variants = new[] { new { name = "a", model = "models:/iris/1" }, new { name = "b", model = "models:/iris/2" } },
            regime = new
            {
                signal = "volatility",
                thresholds = new[] { 0.5 },
                variants = new[] { "a", "b" },
                hysteresis = 0.05,
                rules = new[] { new { input = "float_input", index = 2, op = ">=", value = 6.0, variant = "b" } },
            },
        }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
        }

        (await VariantAsync(client, "iris", 5.1f, 3.5f, 1.4f, 0.2f)).ShouldBe("a", "no signal yet: the first regime");
        (await VariantAsync(client, "iris", 7.7f, 2.6f, 6.9f, 2.3f)).ShouldBe("b", "the rule on petal length");

        (await PostSignalAsync(client, 0.7)).GetProperty("variant").GetString().ShouldBe("b");
        (await VariantAsync(client, "iris", 5.1f, 3.5f, 1.4f, 0.2f)).ShouldBe("b");
        (await PostSignalAsync(client, 0.48)).GetProperty("variant").GetString().ShouldBe("b", "within the hysteresis band");
        (await PostSignalAsync(client, 0.3)).GetProperty("variant").GetString().ShouldBe("a");
        var status = (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("status").GetProperty("regime");
        (status.GetProperty("regime").GetInt32(), status.GetProperty("signal").GetDouble()).ShouldBe((0, 0.3));

        using var wrongName = await client.PostAsJsonAsync("/api/v1/endpoints/iris/signals", new { name = "vix", value = 1 }, Cancel);
        wrongName.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await wrongName.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("Endpoint 'iris' listens to signal 'volatility', not 'vix'.");
    }

    [Fact]
    public async Task A_volatility_detector_on_the_input_stream_moves_traffic_when_inputs_turn_wild()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/watch", new
        {
            policy = "regime",
            variants = new[] { new { name = "calm", model = "models:/iris/1" }, new { name = "wild", model = "models:/iris/2" } },
            regime = new { detector = new { input = "float_input", index = 0, statistic = "std", window = 20 }, thresholds = new[] { 1.0 }, variants = new[] { "calm", "wild" }, hysteresis = 0.1 },
        }, Cancel)).EnsureSuccessStatusCode();

        for (var i = 0; i < 30; i++)
        {
            (await VariantAsync(client, "watch", 5.0f + (i % 2 * 0.1f), 3f, 1.4f, 0.2f)).ShouldBe("calm");
        }

        var seen = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            seen.Add(await VariantAsync(client, "watch", i % 2 == 0 ? 1f : 9f, 3f, 1.4f, 0.2f));
        }

        // The window of 20 rows turns wild (standard deviation past 1.1) within a few wild rows, and stays there.
        seen.IndexOf("wild").ShouldBeInRange(1, 10);
        seen.TakeLast(10).ShouldAllBe(variant => variant == "wild");
    }

    private static async Task<JsonElement> PostSignalAsync(HttpClient client, double value)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/endpoints/iris/signals", new { value }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status");
    }

    private static async Task<string> VariantAsync(HttpClient client, string endpoint, params float[] row)
    {
        using var response = await client.PostAsJsonAsync($"/v2/models/{endpoint}/infer", new { inputs = new[] { new { name = "float_input", shape = new[] { 1, 4 }, datatype = "FP32", data = row } } }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return response.Headers.GetValues("Ballast-Variant").Single();
    }
}
