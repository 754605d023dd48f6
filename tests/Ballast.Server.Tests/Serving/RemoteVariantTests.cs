using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Ballast.Tests.Serving;

/// <summary>Remote variants (a model on another V2 server) on real Kestrel ports: proxying, fallback, timeouts and the circuit breaker.</summary>
public sealed class RemoteVariantTests
{
    private static readonly object IrisRow = new { name = "float_input", shape = new[] { 1, 4 }, datatype = "FP32", data = new[] { 6.7, 3.0, 5.2, 2.3 } };

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_remote_variant_scores_on_another_ballast_and_passes_its_input_errors_through()
    {
        await using var remote = await RunningServer.StartAsync();
        using (var remoteClient = remote.Client())
        {
            await ServingHelpers.RegisterIrisAsync(remoteClient);
            (await remoteClient.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();
        }

        await using var front = await RunningServer.StartAsync();
        using var client = front.Client();
        var url = new Uri(remote.BaseAddress, "/v2/models/iris").ToString();
        using (var created = await client.PutAsJsonAsync("/api/v1/endpoints/front", new { variants = new[] { new { name = "r", url, timeout_ms = 5000 } } }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
        }

        var metadata = await client.GetFromJsonAsync<JsonElement>("/v2/models/front", Cancel);
        metadata.GetProperty("inputs")[0].GetProperty("name").GetString().ShouldBe("float_input");
        metadata.GetProperty("platform").GetString().ShouldBe("remote");

        using var response = await client.PostAsJsonAsync("/v2/models/front/infer", new { inputs = new[] { IrisRow }, outputs = new[] { new { name = "output_label" } } }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        response.Headers.GetValues("Ballast-Model-Version").Single().ShouldBe(url);
        var outputs = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("outputs");
        outputs.GetArrayLength().ShouldBe(1);
        outputs[0].GetProperty("data")[0].GetInt64().ShouldBe(2);

        using var bad = await client.PostAsJsonAsync("/v2/models/front/infer", new { inputs = new[] { new { name = "float_input", shape = new[] { 1, 3 }, datatype = "FP32", data = new[] { 1, 2, 3 } } } }, Cancel);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe("input 'float_input': expected FP32 [-1,4], got FP32 [1,3]");
    }

    [Fact]
    public async Task A_remote_answer_that_is_not_v2_tensors_is_the_remotes_failure_not_the_callers_bad_input()
    {
        await using var server = await RunningServer.StartAsync(routes: app =>
        {
            var metadata = new { name = "x", platform = "fake", inputs = new[] { new { name = "float_input", datatype = "FP32", shape = new[] { -1, 4 } } }, outputs = Array.Empty<object>() };
            app.MapGet("/fake/v2/models/garbled", () => Results.Json(metadata)).AllowAnonymous();
            app.MapPost("/fake/v2/models/garbled/infer", () => Results.Text("""{"outputs": [{"name": "label", "datatype": "INT64", "shape": [1], "data": ["1"]}]}""", "application/json")).AllowAnonymous();
        });
        using var client = server.Client();
        var garbled = new Uri(server.BaseAddress, "/fake/v2/models/garbled").ToString();
        (await client.PutAsJsonAsync("/api/v1/endpoints/garbled", new { variants = new[] { new { name = "r", url = garbled, retries = 0 } } }, Cancel)).EnsureSuccessStatusCode();

        using var response = await client.PostAsJsonAsync("/v2/models/garbled/infer", new { inputs = new[] { IrisRow } }, Cancel);

        // An integer output given as text was a 500 (and other malformed outputs the caller's 400).
        response.StatusCode.ShouldBe(HttpStatusCode.BadGateway);
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
            .ShouldBe($"remote model {garbled} failed: its answer is not V2 tensors: input 'label': value 0 (\"1\") is not an INT64");
    }

    [Fact]
    public async Task A_failing_remote_falls_back_opens_its_circuit_and_a_slow_one_times_out()
    {
        var flakyCalls = 0;
        var slowCancelled = 0;
        await using var server = await RunningServer.StartAsync(routes: app =>
        {
            var metadata = new { name = "x", platform = "fake", inputs = new[] { new { name = "float_input", datatype = "FP32", shape = new[] { -1, 4 } } }, outputs = Array.Empty<object>() };
            app.MapGet("/fake/v2/models/flaky", () => Results.Json(metadata)).AllowAnonymous();
            app.MapPost("/fake/v2/models/flaky/infer", () =>
            {
                Interlocked.Increment(ref flakyCalls);
                return Results.Json(new { error = "model crashed" }, statusCode: 500);
            }).AllowAnonymous();
            app.MapGet("/fake/v2/models/slow", () => Results.Json(metadata)).AllowAnonymous();
            app.MapPost("/fake/v2/models/slow/infer", async (CancellationToken aborted) =>
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), aborted);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref slowCancelled);
                }

                return Results.Ok();
            }).AllowAnonymous();
        });
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client);
        var flaky = new Uri(server.BaseAddress, "/fake/v2/models/flaky").ToString();
        var slow = new Uri(server.BaseAddress, "/fake/v2/models/slow").ToString();
        (await client.PutAsJsonAsync("/api/v1/endpoints/guarded", new
        {
            variants = new object[] { new { name = "r", url = flaky, weight = 100, retries = 0 }, new { name = "a", model = "models:/iris/1", weight = 0 } },
            fallback = "a",
        }, Cancel)).EnsureSuccessStatusCode();

        for (var i = 0; i < 20; i++)
        {
            using var response = await client.PostAsJsonAsync("/v2/models/guarded/infer", new { inputs = new[] { IrisRow } }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, "the fallback answers every request");
            response.Headers.GetValues("Ballast-Variant").Single().ShouldBe("a");
        }

        // The breaker opened at its minimum throughput of 5 calls (the metadata read, then 4 failures: 80% failed);
        // the remote was not called again.
        flakyCalls.ShouldBe(4);
        var metrics = await client.GetStringAsync("/metrics", Cancel);
        metrics.ShouldContain("ballast_inference_fallbacks_total{endpoint=\"guarded\",failed_variant=\"r\"} 20");
        metrics.ShouldContain($"ballast_remote_circuit_transitions_total{{url=\"{flaky}\",transition=\"opened\"}} 1");

        // Every replica's traffic counters (written every second) see the remote's failures and the fallback's answers.
        // Counters are flushed every second, so a read can come between two flushes: wait for all 40 requests.
        var traffic = await Eventually.UntilAsync(
            () => client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/guarded/traffic", Cancel),
            traffic => traffic.GetProperty("variants").EnumerateArray().Sum(variant => variant.GetProperty("requests").GetInt64()) >= 40, TimeSpan.FromMilliseconds(100));

        var variants = traffic.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant").GetString()!);
        (variants["r"].GetProperty("requests").GetInt64(), variants["r"].GetProperty("errors").GetInt64(), variants["r"].GetProperty("error_rate").GetDouble()).ShouldBe((20L, 20L, 1.0));
        (variants["a"].GetProperty("requests").GetInt64(), variants["a"].GetProperty("errors").GetInt64()).ShouldBe((20L, 0L));

        // Without a fallback, the caller gets the gateway's error with the reason.
        (await client.PutAsJsonAsync("/api/v1/endpoints/bare", new { variants = new[] { new { name = "r", url = flaky, retries = 1 } } }, Cancel)).EnsureSuccessStatusCode();
        using (var failed = await client.PostAsJsonAsync("/v2/models/bare/infer", new { inputs = new[] { IrisRow } }, Cancel))
        {
            failed.StatusCode.ShouldBe(HttpStatusCode.BadGateway);
            (await failed.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe($"remote model {flaky} answered 500: model crashed");
        }

        flakyCalls.ShouldBe(6, "one call and one retry");

        // A remote slower than its timeout is cut off (the remote sees the cancellation) and the fallback answers.
        (await client.PutAsJsonAsync("/api/v1/endpoints/patient", new
        {
            variants = new object[] { new { name = "s", url = slow, weight = 100, timeout_ms = 200, retries = 0 }, new { name = "a", model = "models:/iris/1", weight = 0 } },
            fallback = "a",
        }, Cancel)).EnsureSuccessStatusCode();
        using (var timedOut = await client.PostAsJsonAsync("/v2/models/patient/infer", new { inputs = new[] { IrisRow } }, Cancel))
        {
            timedOut.StatusCode.ShouldBe(HttpStatusCode.OK);
            timedOut.Headers.GetValues("Ballast-Variant").Single().ShouldBe("a");
        }

        await Eventually.UntilAsync(() => Volatile.Read(ref slowCancelled) != 0, TimeSpan.FromMilliseconds(50));

        slowCancelled.ShouldBe(1);
    }
}
