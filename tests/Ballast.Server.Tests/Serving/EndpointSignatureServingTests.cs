using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Serving;
using Ballast.Tests.Tracking;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Serving;

/// <summary>
/// An endpoint's variants, shadows and fallback must all take its inputs (its first variant's), on a real Kestrel port
/// with the fixtures: iris takes float_input FP32 [-1,4], davis float_input FP32 [-1,2], titanic five other inputs.
/// </summary>
public sealed class EndpointSignatureServingTests
{
    private const string Takes = "every variant, shadow and fallback must take the endpoint's inputs, those of variant 'a' (iris/1): float_input FP32 [-1,4]; ";

    private const string TitanicInputs = "age FP32 [-1,1], embarked BYTES [-1,1], fare FP32 [-1,1], pclass INT64 [-1,1], sex BYTES [-1,1]";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_variant_shadow_or_fallback_that_takes_other_inputs_keeps_the_endpoint_from_being_served_and_says_which()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        await ServingHelpers.RegisterAsync(client, "davis", "logistic_davis.onnx");
        await ServingHelpers.RegisterAsync(client, "titanic", "titanic_pipeline.onnx");

        // Two copies of the iris model in a split, one also the fallback and the shadow: served.
        using (var same = await client.PutAsJsonAsync("/api/v1/endpoints/same", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } },
            shadows = new[] { new { name = "s", model = "models:/iris/2", percent = 100 } },
            fallback = "b",
        }, Cancel))
        {
            same.StatusCode.ShouldBe(HttpStatusCode.OK, await same.Content.ReadAsStringAsync(Cancel));
            var status = (await same.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status");
            (status.GetProperty("ready").GetBoolean(), status.TryGetProperty("problem", out _)).ShouldBe((true, false), status.ToString());
        }

        using (var scored = await client.PostAsJsonAsync("/v2/models/same/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel))
        {
            scored.StatusCode.ShouldBe(HttpStatusCode.OK, await scored.Content.ReadAsStringAsync(Cancel));
        }

        (await client.GetFromJsonAsync<JsonElement>("/v2/health/ready", Cancel)).GetProperty("ready").GetBoolean().ShouldBeTrue();

        // A split variant with none of the endpoint's inputs (it was served, and each request it drew was a 400), through
        // `ballast apply`: stored, not served, naming the variant, its model and the inputs that differ.
        var manifest = Path.Combine(server.DataDir, "split.yaml");
        await File.WriteAllTextAsync(manifest, """
            kind: Endpoint
            name: split
            variants:
              - {name: a, model: "models:/iris/1", weight: 50}
              - {name: t, model: "models:/titanic/1", weight: 50}
            """, Cancel);
        var split = Takes + $"variant 't' (titanic/1) lacks float_input and also takes {TitanicInputs}, which the endpoint's requests do not carry";
        var dryRun = await CliProcess.RunAsync("apply", "-f", manifest, "--dry-run", "--url", url);
        (dryRun.ExitCode, dryRun.Error.Trim()).ShouldBe((1, $"error: endpoint/split: would be refused: would not be served: {split}"), dryRun.ToString());
        var applied = await CliProcess.RunAsync("apply", "-f", manifest, "--url", url);
        applied.ExitCode.ShouldBe(0, applied.ToString());
        applied.Output.ShouldEndWith($"\nendpoint/split: created (revision 1; not ready: {split})\n", Case.Sensitive, applied.ToString());
        await ShouldNotBeServedAsync(client, "split", split);

        // A shadow whose model takes 2 features where requests carry 4: it would fail on every copy, counted only in shadow metrics.
        var shadow = Takes + "shadow 's' (davis/1) takes float_input FP32 [-1,2]";
        using (var created = await client.PutAsJsonAsync("/api/v1/endpoints/shadowed", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1" } },
            shadows = new[] { new { name = "s", model = "models:/davis/1", percent = 100 } },
        }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
        }

        await ShouldNotBeServedAsync(client, "shadowed", shadow);

        // A fallback that takes no traffic of its own is still checked: it answers the requests the chosen variant fails.
        var fallback = Takes + "fallback variant 'f' (davis/1) takes float_input FP32 [-1,2]";
        using (var created = await client.PostAsJsonAsync("/api/v1/endpoints", new
        {
            name = "fallen",
            variants = new[] { new { name = "a", model = "models:/iris/1", weight = 100 }, new { name = "f", model = "models:/davis/1", weight = 0 } },
            fallback = "f",
        }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
        }

        await ShouldNotBeServedAsync(client, "fallen", fallback);

        // The dry run answers the same, before anything is stored.
        var check = await (await client.PostAsJsonAsync("/api/v1/endpoints/other/dry-run", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1" } },
            shadows = new[] { new { name = "s", model = "models:/davis/1" } },
        }, Cancel)).Content.ReadFromJsonAsync<JsonElement>(Cancel);
        (check.GetProperty("ready").GetBoolean(), check.GetProperty("problem").GetString()).ShouldBe((false, shadow));

        // Fixed, the endpoint is served and the server is ready again.
        (await client.PutAsJsonAsync("/api/v1/endpoints/shadowed", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1" } },
            shadows = new[] { new { name = "s", model = "models:/iris/2", percent = 100 } },
        }, Cancel)).EnsureSuccessStatusCode();
        foreach (var name in new[] { "split", "fallen" })
        {
            (await client.DeleteAsync($"/api/v1/endpoints/{name}", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/shadowed", Cancel)).GetProperty("status").GetProperty("ready").GetBoolean().ShouldBeTrue();
        (await client.GetFromJsonAsync<JsonElement>("/v2/health/ready", Cancel)).GetProperty("ready").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public async Task An_alias_moved_to_a_model_with_other_inputs_is_refused_and_the_previous_models_keep_serving()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        // Version 3 of "iris" is the titanic pipeline: a new version with another signature, as a retrained model can be.
        await ServingHelpers.RegisterAsync(client, "iris", "titanic_pipeline.onnx");
        await MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "iris", alias = "candidate", version = "2" });
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1" } },
            shadows = new[] { new { name = "s", model = "models:/iris@candidate", percent = 100 } },
        }, Cancel)).EnsureSuccessStatusCode();
        var router = server.App.Services.GetRequiredService<EndpointRouter>();

        await MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "iris", alias = "candidate", version = "3" });
        await router.RefreshAsync(Cancel);

        var status = (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("status");
        status.GetProperty("ready").GetBoolean().ShouldBeFalse();
        status.GetProperty("problem").GetString().ShouldBe(Takes + $"shadow 's' (models:/iris@candidate = iris/3) lacks float_input and also takes {TitanicInputs}, which the endpoint's requests do not carry");
        // The snapshot from before the move still serves, its shadow on version 2: no request fails because the alias moved.
        status.GetProperty("serving").EnumerateArray().Select(variant => (variant.GetProperty("name").GetString(), variant.GetProperty("model").GetString())).ShouldBe([("a", "iris/1"), ("s", "iris/2")]);
        using (var scored = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel))
        {
            scored.StatusCode.ShouldBe(HttpStatusCode.OK, await scored.Content.ReadAsStringAsync(Cancel));
            scored.Headers.GetValues("Ballast-Model-Version").Single().ShouldBe("iris/1");
        }

        (await client.GetAsync("/v2/health/ready", Cancel)).StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);

        // The alias back on a version that fits: served and ready.
        await MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "iris", alias = "candidate", version = "2" });
        await router.RefreshAsync(Cancel);
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("status").GetProperty("ready").GetBoolean().ShouldBeTrue();
        (await client.GetFromJsonAsync<JsonElement>("/v2/health/ready", Cancel)).GetProperty("ready").GetBoolean().ShouldBeTrue();
    }

    /// <summary>The endpoint's status says why it is not served; scoring and metadata answer 404 with the same reason; the server is not ready.</summary>
    private static async Task ShouldNotBeServedAsync(HttpClient client, string name, string problem)
    {
        var status = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/endpoints/{name}", Cancel)).GetProperty("status");
        (status.GetProperty("ready").GetBoolean(), status.GetProperty("problem").GetString()).ShouldBe((false, problem));
        status.GetProperty("serving").GetArrayLength().ShouldBe(0);
        using (var scored = await client.PostAsJsonAsync($"/v2/models/{name}/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel))
        {
            scored.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            (await scored.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe($"Endpoint '{name}' is not served: {problem}");
        }

        using (var metadata = await client.GetAsync($"/v2/models/{name}", Cancel))
        {
            metadata.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        (await client.GetAsync("/v2/health/ready", Cancel)).StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
    }
}
