using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Tests.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Ballast.Tests.Serving;

/// <summary>Ensemble endpoints on a real Kestrel port: every variant scores, the answers are combined; a failing member hands over to the fallback.</summary>
public sealed class EnsembleServingTests
{
    private static readonly object IrisRows = new { name = "float_input", shape = new[] { 2, 4 }, datatype = "FP32", data = new[] { 5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3 } };

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_ensemble_combines_its_variants_and_falls_back_when_a_member_fails()
    {
        await using var server = await RunningServer.StartAsync(routes: app =>
        {
            app.MapGet("/fake/v2/models/broken", () => Results.Json(new { name = "broken", inputs = new[] { new { name = "float_input", datatype = "FP32", shape = new[] { -1, 4 } } } })).AllowAnonymous();
            app.MapPost("/fake/v2/models/broken/infer", () => Results.Json(new { error = "out of memory" }, statusCode: 503)).AllowAnonymous();
        });
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        using (var created = await client.PutAsJsonAsync("/api/v1/endpoints/iris", new
        {
            policy = "ensemble",
            ensemble = new { combine = "vote" },
            variants = new[] { new { name = "a", model = "models:/iris/1", weight = 2 }, new { name = "b", model = "models:/iris/2", weight = 1 } },
        }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
        }

        using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { IrisRows } }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        response.Headers.GetValues("Ballast-Variant").Single().ShouldBe("ensemble");
        response.Headers.GetValues("Ballast-Model-Version").Single().ShouldBe("ensemble(a=iris/1*2,b=iris/2)");
        var outputs = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("outputs").EnumerateArray().ToDictionary(output => output.GetProperty("name").GetString()!);
        // Two copies of the same model: the combination is that model's answer (fixtures README known values).
        outputs["output_label"].GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ShouldBe([0L, 2]);
        outputs["output_probability"].GetProperty("data")[5].GetDouble().ShouldBe(0.88232, 1e-4);
        outputs["output_probability"].GetProperty("parameters").GetProperty("labels").GetArrayLength().ShouldBe(3);

        // A member on a remote that fails: the ensemble fails and the fallback variant answers alone.
        var broken = new Uri(server.BaseAddress, "/fake/v2/models/broken").ToString();
        (await client.PutAsJsonAsync("/api/v1/endpoints/mixed", new
        {
            policy = "ensemble",
            variants = new object[] { new { name = "a", model = "models:/iris/1" }, new { name = "r", url = broken, retries = 0 } },
            fallback = "a",
        }, Cancel)).EnsureSuccessStatusCode();
        // Members without a weight weigh 1 each, and the metadata says so.
        (await client.GetFromJsonAsync<JsonElement>("/v2/models/mixed", Cancel)).GetProperty("variants").EnumerateArray().Select(variant => variant.GetProperty("weight").GetInt32()).ShouldBe([1, 1]);
        using var fallback = await client.PostAsJsonAsync("/v2/models/mixed/infer", new { inputs = new[] { IrisRows } }, Cancel);
        fallback.StatusCode.ShouldBe(HttpStatusCode.OK, await fallback.Content.ReadAsStringAsync(Cancel));
        fallback.Headers.GetValues("Ballast-Variant").Single().ShouldBe("a");
        (await client.GetStringAsync("/metrics", Cancel)).ShouldContain("ballast_inference_fallbacks_total{endpoint=\"mixed\",failed_variant=\"ensemble\"} 1");

        // Members that take different inputs could never answer a request together: the endpoint is not served, and says why.
        await ServingHelpers.RegisterAsync(client, "titanic", "titanic_pipeline.onnx");
        (await client.PutAsJsonAsync("/api/v1/endpoints/apples-and-ships", new
        {
            policy = "ensemble",
            variants = new[] { new { name = "a", model = "models:/iris/1" }, new { name = "t", model = "models:/titanic/1" } },
        }, Cancel)).EnsureSuccessStatusCode();
        var status = await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/apples-and-ships", Cancel);
        status.GetProperty("status").GetProperty("ready").GetBoolean().ShouldBeFalse();
        status.GetProperty("status").GetProperty("problem").GetString().ShouldBe("ensemble members must take the same inputs and give the same outputs: 'a' (iris/1) takes float_input FP32; 't' (titanic/1) takes age FP32, embarked BYTES, fare FP32, pclass INT64, sex BYTES");
        using var notServed = await client.GetAsync("/v2/health/ready", Cancel);
        notServed.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);

        // Same input and output names and datatypes, but 4 features beside 2: no request fits both, so not served either
        // (it was served, and every request was a 400 from one member or the other).
        await ServingHelpers.RegisterAsync(client, "davis", "logistic_davis.onnx");
        (await client.PutAsJsonAsync("/api/v1/endpoints/wide-and-narrow", new
        {
            policy = "ensemble",
            variants = new[] { new { name = "a", model = "models:/iris/1" }, new { name = "d", model = "models:/davis/1" } },
        }, Cancel)).EnsureSuccessStatusCode();
        var shapes = await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/wide-and-narrow", Cancel);
        shapes.GetProperty("status").GetProperty("ready").GetBoolean().ShouldBeFalse();
        shapes.GetProperty("status").GetProperty("problem").GetString().ShouldBe("ensemble members must take the same inputs and give the same outputs: 'a' (iris/1) takes float_input FP32 [-1,4]; 'd' (davis/1) takes float_input FP32 [-1,2]");
    }

    [Fact]
    public async Task An_adaptive_ensemble_learns_its_members_weights_from_the_outcomes_of_their_own_answers()
    {
        // r, a model on another server, always answers class 1 with certainty; the outcomes say 0.
        await using var server = await RunningServer.StartAsync(routes: MapOnes);
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client);
        using (var created = await client.PutAsJsonAsync("/api/v1/endpoints/adaptive", new
        {
            policy = "ensemble",
            ensemble = new { adapt = new { window = "1h", min_feedback = 5 } },
            variants = new object[] { new { name = "a", model = "models:/iris/1" }, new { name = "r", url = new Uri(server.BaseAddress, "/fake/v2/models/ones").ToString() } },
        }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
        }

        var setosa = new { name = "float_input", shape = new[] { 1, 4 }, datatype = "FP32", data = new[] { 5.1, 3.5, 1.4, 0.2 } };
        async Task<(long Label, string Id)> InferAsync()
        {
            using var response = await client.PostAsJsonAsync("/v2/models/adaptive/infer", new { inputs = new[] { setosa } }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
            var label = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("outputs").EnumerateArray()
                .Single(output => output.GetProperty("name").GetString() == "output_label").GetProperty("data")[0].GetInt64();
            return (label, response.Headers.GetValues("Ballast-Prediction-Id").Single());
        }

        async Task<JsonElement> EnsembleStatusAsync() =>
            (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/adaptive", Cancel)).GetProperty("status").GetProperty("ensemble");

        // Equal weights: the mean of iris's probabilities (class 0 below 1) and r's certain 1 is class 1.
        var answers = new List<(long Label, string Id)>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add(await InferAsync());
        }

        answers.Select(answer => answer.Label).ShouldAllBe(label => label == 1);
        var before = await EnsembleStatusAsync();
        before.GetProperty("adapted").GetBoolean().ShouldBeFalse();
        before.GetProperty("members").EnumerateArray().Select(member => member.GetProperty("weight").GetDouble()).ShouldBe([1.0, 1.0]);

        // Outcome 0 for each: a (which said 0) was right 5 of 5, r 0 of 5. Posting them re-weights the ensemble at once:
        // a by log(6 / 1) (p = 6/7, two classes), r by 0, below chance.
        (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback = answers.Select(answer => new { prediction_id = answer.Id, outcome = 0 }) }, Cancel)).EnsureSuccessStatusCode();
        (await InferAsync()).Label.ShouldBe(0);
        var after = await EnsembleStatusAsync();
        after.GetProperty("adapted").GetBoolean().ShouldBeTrue();
        var members = after.GetProperty("members").EnumerateArray().ToDictionary(member => member.GetProperty("variant").GetString()!);
        members["a"].GetProperty("weight").GetDouble().ShouldBe(Math.Log(6), 1e-9);
        (members["a"].GetProperty("labelled").GetInt64(), members["a"].GetProperty("correct").GetInt64()).ShouldBe((5L, 5L));
        members["r"].GetProperty("weight").GetDouble().ShouldBe(0);
        (members["r"].GetProperty("labelled").GetInt64(), members["r"].GetProperty("correct").GetInt64()).ShouldBe((5L, 0L));

        using var invalid = await client.PutAsJsonAsync("/api/v1/endpoints/adaptive", new
        {
            policy = "ensemble",
            ensemble = new { adapt = new { window = "0", min_feedback = 5 } },
            variants = new[] { new { name = "a", model = "models:/iris/1" }, new { name = "b", model = "models:/iris/1" } },
        }, Cancel);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await invalid.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("Invalid endpoint 'adaptive': ensemble.adapt.window must be more than 0 and at most 30d (member predictions are kept 30 days), not '0'.");

        // Deleting the endpoint forgets what it learned: the same spec again starts from its own weights.
        (await client.DeleteAsync("/api/v1/endpoints/adaptive", Cancel)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/api/v1/endpoints/adaptive", new
        {
            policy = "ensemble",
            ensemble = new { adapt = new { min_feedback = 5 } },
            variants = new object[] { new { name = "a", model = "models:/iris/1" }, new { name = "r", url = new Uri(server.BaseAddress, "/fake/v2/models/ones").ToString() } },
        }, Cancel)).EnsureSuccessStatusCode();
        (await InferAsync()).Label.ShouldBe(1);
        (await EnsembleStatusAsync()).GetProperty("adapted").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task Two_replicas_on_one_postgres_learn_the_same_ensemble_weights()
    {
        var (location, drop) = await TestDatabases.CreateAsync(Ballast.Metadata.DatabaseEngine.Postgres);
        var artifacts = Directory.CreateTempSubdirectory("ballast-shared-artifacts-").FullName;
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(location.ConnectionString);
            var database = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
            await using var first = await RunningServer.StartAsync(options => options with { Database = database, Artifacts = artifacts }, routes: MapOnes);
            await using var second = await RunningServer.StartAsync(options => options with { Database = database, Artifacts = artifacts });
            using var one = first.Client();
            using var two = second.Client();
            await ServingHelpers.RegisterIrisAsync(one);
            (await one.PutAsJsonAsync("/api/v1/endpoints/shared", new
            {
                policy = "ensemble",
                ensemble = new { adapt = new { min_feedback = 5 } },
                variants = new object[] { new { name = "a", model = "models:/iris/1" }, new { name = "r", url = new Uri(first.BaseAddress, "/fake/v2/models/ones").ToString() } },
            }, Cancel)).EnsureSuccessStatusCode();

            async Task<(long Label, string Id)> InferAsync(HttpClient client)
            {
                using var response = await client.PostAsJsonAsync("/v2/models/shared/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
                response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
                var label = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("outputs").EnumerateArray()
                    .Single(output => output.GetProperty("name").GetString() == "output_label").GetProperty("data")[0].GetInt64();
                return (label, response.Headers.GetValues("Ballast-Prediction-Id").Single());
            }

            // The second replica serves the endpoint the first created, within its refresh interval.
            await WaitAsync(async () => (await two.PostAsJsonAsync("/v2/models/shared/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel)).StatusCode == HttpStatusCode.OK);

            // Predictions on the second replica, their outcomes posted to the first: both learn from the same store.
            var answers = new List<(long Label, string Id)>();
            for (var i = 0; i < 5; i++)
            {
                answers.Add(await InferAsync(two));
            }

            answers.ShouldAllBe(answer => answer.Label == 1);
            (await one.PostAsJsonAsync("/api/v1/feedback", new { feedback = answers.Select(answer => new { prediction_id = answer.Id, outcome = 0 }) }, Cancel)).EnsureSuccessStatusCode();
            foreach (var client in new[] { one, two })
            {
                await WaitAsync(async () => (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/shared", Cancel)).GetProperty("status").GetProperty("ensemble").GetProperty("adapted").GetBoolean());
                (await InferAsync(client)).Label.ShouldBe(0);
            }
        }
        finally
        {
            await drop();
            Directory.Delete(artifacts, recursive: true);
        }
    }

    /// <summary>A model on "another server" that answers class 1 with certainty for one iris row.</summary>
    private static void MapOnes(Microsoft.AspNetCore.Builder.WebApplication app)
    {
        app.MapGet("/fake/v2/models/ones", () => Results.Json(new { name = "ones", inputs = new[] { new { name = "float_input", datatype = "FP32", shape = new[] { -1, 4 } } } })).AllowAnonymous();
        app.MapPost("/fake/v2/models/ones/infer", () => Results.Json(new
        {
            model_name = "ones",
            outputs = new object[]
            {
                new { name = "output_label", datatype = "INT64", shape = new[] { 1 }, data = new[] { 1L } },
                new { name = "output_probability", datatype = "FP32", shape = new[] { 1, 3 }, data = new[] { 0f, 1f, 0f } },
            },
        })).AllowAnonymous();
    }

    /// <summary>Polls until the condition holds (another replica's refresh interval is 5 s).</summary>
    private static async Task WaitAsync(Func<Task<bool>> condition) =>
        (await Eventually.UntilAsync(condition, static done => done, TimeSpan.FromMilliseconds(200))).ShouldBeTrue("the replicas converge");

    [Fact]
    public async Task An_ensembles_weights_follow_the_regime_signal()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        using (var created = await client.PutAsJsonAsync("/api/v1/endpoints/blend", new
        {
            policy = "ensemble",
            variants = new[] { new { name = "calm", model = "models:/iris/1" }, new { name = "stress", model = "models:/iris/2" } },
            ensemble = new { weights_by_regime = new[] { new[] { 3.0, 1.0 }, new[] { 1.0, 3.0 } } },
            regime = new { signal = "volatility", thresholds = new[] { 0.5 } },
        }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
        }

        async Task<string> ModelAsync()
        {
            using var response = await client.PostAsJsonAsync("/v2/models/blend/infer", new { inputs = new[] { IrisRows } }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
            return response.Headers.GetValues("Ballast-Model-Version").Single();
        }

        (await ModelAsync()).ShouldBe("ensemble(calm=iris/1*3,stress=iris/2)");
        (await client.PostAsJsonAsync("/api/v1/endpoints/blend/signals", new { value = 0.9 }, Cancel)).EnsureSuccessStatusCode();
        (await ModelAsync()).ShouldBe("ensemble(calm=iris/1,stress=iris/2*3)");

        using var invalid = await client.PutAsJsonAsync("/api/v1/endpoints/bad", new
        {
            policy = "ensemble",
            variants = new[] { new { name = "a", model = "models:/iris/1" }, new { name = "b", model = "models:/iris/2" } },
            ensemble = new { weights_by_regime = new[] { new[] { 1.0, 1.0 } } },
            regime = new { signal = "v", thresholds = new[] { 0.5 } },
        }, Cancel);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await invalid.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("Invalid endpoint 'bad': ensemble.weights_by_regime needs 2 rows (one per regime) of 2 non-negative weights, not all 0.");
    }
}
