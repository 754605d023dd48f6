using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Tests.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Ballast.Tests.Experiments;

/// <summary>An A/B experiment on a real server: traffic split by an endpoint, outcomes posted as feedback, results and a decision.</summary>
public sealed class AbExperimentTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_variant_that_converts_better_is_shipped_and_the_plan_and_srm_are_reported()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } } }, Cancel)).EnsureSuccessStatusCode();

        using (var created = await client.PostAsJsonAsync("/api/v1/experiments", new { name = "iris-ab", endpoint = "iris", metric = new { name = "conversion", type = "binomial" }, engine = "frequentist", planned_samples = 300 }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
            var experiment = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("experiment");
            (experiment.GetProperty("engine").GetString(), experiment.GetProperty("alpha").GetDouble()).ShouldBe(("frequentist", 0.05));
        }

        // Seeded users, a stream per variant (which variant a request reaches is not seeded, so one shared stream would
        // give each variant different draws from run to run): b converts 60% of the time, a 30%.
        // (Seeds whose running means stay within 0.02 of the rates over 250-550 draws, whatever the split.)
        var random = new Dictionary<string, Random> { ["a"] = new(11), ["b"] = new(3) };
        var feedback = new List<object>();
        for (var i = 0; i < 800; i++)
        {
            using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
            var variant = response.Headers.GetValues("Ballast-Variant").Single();
            feedback.Add(new { prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single(), outcome = random[variant].NextDouble() < (variant == "b" ? 0.6 : 0.3) ? 1 : 0 });
            if (i == 99)
            {
                // Early: the fixed-horizon engine does not decide before the planned sample size.
                (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback }, Cancel)).EnsureSuccessStatusCode();
                feedback.Clear();
                var early = await client.GetFromJsonAsync<JsonElement>("/api/v1/experiments/iris-ab/results", Cancel);
                early.GetProperty("decision").GetString()!.ShouldStartWith("keep running (");
                early.GetProperty("provisional").GetBoolean().ShouldBeTrue();
            }
        }

        (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback }, Cancel)).EnsureSuccessStatusCode();
        var results = await client.GetFromJsonAsync<JsonElement>("/api/v1/experiments/iris-ab/results", Cancel);
        results.GetProperty("decision").GetString().ShouldBe("ship b", results.ToString());
        results.GetProperty("provisional").GetBoolean().ShouldBeFalse();
        results.GetProperty("srm").GetProperty("mismatch").GetBoolean().ShouldBeFalse();
        var variants = results.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant").GetString()!);
        (variants["a"].GetProperty("units").GetInt64() + variants["b"].GetProperty("units").GetInt64()).ShouldBe(800);
        variants["a"].GetProperty("mean").GetDouble().ShouldBe(0.3, 0.07);
        variants["b"].GetProperty("mean").GetDouble().ShouldBe(0.6, 0.07);
        variants["b"].GetProperty("relative_lift").GetDouble().ShouldBeGreaterThan(0.5);
        variants["b"].GetProperty("p_value").GetDouble().ShouldBeLessThan(0.001);
        variants["b"].GetProperty("verdict").GetString().ShouldBe("better");

        var cli = await CliProcess.RunAsync("experiments", "results", "iris-ab", "--url", server.BaseAddress.ToString().TrimEnd('/'));
        cli.ExitCode.ShouldBe(0, cli.ToString());
        cli.Output.ShouldStartWith("iris-ab on iris (conversion, frequentist): ship b");

        using var unknown = await client.PostAsJsonAsync("/api/v1/experiments", new { name = "x", endpoint = "nope" }, Cancel);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var invalid = await client.PostAsJsonAsync("/api/v1/experiments", new { name = "y", endpoint = "iris", engine = "magic", alpha = 2 }, Cancel);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await invalid.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("Invalid experiment 'y': engine 'magic' is not one of frequentist, sequential, bayesian; alpha 2 must be between 0 and 0.5.");
    }

    /// <summary>
    /// A writer forcing variant b with <c>Ballast-Variant</c> (to test it) gets b's answers, logged with kind
    /// <c>forced</c>; they are no units of the experiment: counted, 200 forced requests to b beside 200 split ones
    /// would fail the sample-ratio check (about 100 against 300) and their conversions would be b's.
    /// </summary>
    [Fact]
    public async Task Requests_forcing_a_variant_are_served_and_logged_but_are_no_units_of_the_experiment()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } } }, Cancel)).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/v1/experiments", new { name = "iris-ab", endpoint = "iris", metric = new { name = "conversion", type = "binomial" } }, Cancel)).EnsureSuccessStatusCode();

        // Split requests never convert; forced ones always do.
        var feedback = new List<object>();
        for (var i = 0; i < 400; i++)
        {
            var forced = i % 2 == 1;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/iris/infer") { Content = JsonContent.Create(new { inputs = new[] { ServingHelpers.IrisRow } }) };
            if (forced)
            {
                request.Headers.Add("Ballast-Variant", "b");
            }

            using var response = await client.SendAsync(request, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            if (forced)
            {
                response.Headers.GetValues("Ballast-Variant").Single().ShouldBe("b");
            }

            feedback.Add(new { prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single(), outcome = forced ? 1 : 0 });
        }

        (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback }, Cancel)).EnsureSuccessStatusCode();
        var results = await client.GetFromJsonAsync<JsonElement>("/api/v1/experiments/iris-ab/results", Cancel);
        var variants = results.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant").GetString()!);
        (variants["a"].GetProperty("units").GetInt64() + variants["b"].GetProperty("units").GetInt64()).ShouldBe(200, results.ToString());
        results.GetProperty("srm").GetProperty("mismatch").GetBoolean().ShouldBeFalse(results.ToString());
        variants["b"].GetProperty("mean").GetDouble().ShouldBe(0, results.ToString());

        // Served and logged all the same, told apart by their kind.
        var csv = await client.GetStringAsync("/api/v1/predictions/export?endpoint=iris&format=csv", Cancel);
        var lines = csv.Trim().Split('\n');
        lines[0].Split(',')[7].ShouldBe("kind");
        var kinds = lines.Skip(1).Select(line => line.Split(',')).GroupBy(fields => fields[7]).ToDictionary(group => group.Key, group => group.Select(fields => fields[2]).ToList());
        kinds["forced"].Count.ShouldBe(200);
        kinds["forced"].ShouldAllBe(variant => variant == "b");
        kinds["primary"].Count.ShouldBe(200);
    }

    /// <summary>
    /// The <c>error_rate</c> guardrail reads the traffic counters, which count forced requests too, apart: 30 requests a
    /// writer forced to a variant whose model fails leave its routed error rate at 0 (they would have made it about
    /// 0.5), while its failures on routed requests break the guardrail. The traffic API still counts every request, and
    /// shows the forced part.
    /// </summary>
    [Fact]
    public async Task Forced_requests_that_fail_do_not_move_the_error_rate_guardrail_and_routed_failures_do()
    {
        var failing = 0;
        await using var server = await RunningServer.StartAsync(routes: app =>
        {
            // A remote model that answers iris's label until told to fail with a server error.
            var metadata = new
            {
                name = "remote", platform = "fake",
                inputs = new[] { new { name = "float_input", datatype = "FP32", shape = new[] { -1, 4 } } },
                outputs = new[] { new { name = "output_label", datatype = "INT64", shape = new[] { -1 } } },
            };
            app.MapGet("/fake/v2/models/remote", () => Results.Json(metadata)).AllowAnonymous();
            app.MapPost("/fake/v2/models/remote/infer", () => Volatile.Read(ref failing) == 0
                ? Results.Json(new { model_name = "remote", outputs = new[] { new { name = "output_label", datatype = "INT64", shape = new[] { 1 }, data = new[] { 0 } } } })
                : Results.Json(new { error = "model crashed" }, statusCode: 500)).AllowAnonymous();
        });
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client);
        var remote = new Uri(server.BaseAddress, "/fake/v2/models/remote").ToString();
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new
        {
            variants = new object[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", url = remote, weight = 50, retries = 0 } },
        }, Cancel)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/api/v1/experiments/iris-ab", new { endpoint = "iris", guardrails = new[] { new { metric = "error_rate", max = 0.05 } } }, Cancel)).EnsureSuccessStatusCode();

        async Task<HttpResponseMessage> InferAsync(string? force)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/iris/infer") { Content = JsonContent.Create(new { inputs = new[] { ServingHelpers.IrisRow } }) };
            if (force is not null)
            {
                request.Headers.Add("Ballast-Variant", force);
            }

            return await client.SendAsync(request, Cancel);
        }

        // Routed requests while b is healthy.
        var routedToB = 0;
        for (var i = 0; i < 40; i++)
        {
            using var response = await InferAsync(null);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            routedToB += response.Headers.GetValues("Ballast-Variant").Single() == "b" ? 1 : 0;
        }

        // A writer tests b while its model fails.
        Interlocked.Exchange(ref failing, 1);
        for (var i = 0; i < 30; i++)
        {
            using var response = await InferAsync("b");
            response.StatusCode.ShouldBe(HttpStatusCode.BadGateway);
        }

        async Task<Dictionary<string, JsonElement>> TrafficAsync(int requests) => (await Eventually.UntilAsync(
                () => client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris/traffic", Cancel),
                traffic => traffic.GetProperty("variants").EnumerateArray().Sum(variant => variant.GetProperty("requests").GetInt64()) >= requests, TimeSpan.FromMilliseconds(100)))
            .GetProperty("variants").EnumerateArray().ToDictionary(variant => variant.GetProperty("variant").GetString()!);

        var b = (await TrafficAsync(70))["b"];
        (b.GetProperty("requests").GetInt64(), b.GetProperty("errors").GetInt64(), b.GetProperty("forced_requests").GetInt64(), b.GetProperty("forced_errors").GetInt64())
            .ShouldBe((routedToB + 30L, 30L, 30L, 30L));
        b.GetProperty("error_rate").GetDouble().ShouldBe(30.0 / (routedToB + 30), 1e-12, "the traffic API counts every request");
        var results = await client.GetFromJsonAsync<JsonElement>("/api/v1/experiments/iris-ab/results", Cancel);
        results.GetProperty("variants").EnumerateArray().Where(variant => variant.TryGetProperty("guardrails_broken", out _)).ShouldBeEmpty(results.ToString());

        // Routed requests that reach b now fail, and break its guardrail.
        var failedRouted = 0;
        for (var i = 0; i < 40; i++)
        {
            using var response = await InferAsync(null);
            if (response.StatusCode == HttpStatusCode.BadGateway)
            {
                failedRouted++;
            }
            else
            {
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
                response.Headers.GetValues("Ballast-Variant").Single().ShouldBe("a");
            }
        }

        failedRouted.ShouldBeGreaterThan(0, "40 requests split 50/50 reach b (a chance of 2^-40 that none does)");
        b = (await TrafficAsync(110))["b"];
        (b.GetProperty("errors").GetInt64(), b.GetProperty("forced_errors").GetInt64()).ShouldBe((30L + failedRouted, 30L));
        results = await client.GetFromJsonAsync<JsonElement>("/api/v1/experiments/iris-ab/results", Cancel);
        var broken = results.GetProperty("variants").EnumerateArray().Single(variant => variant.GetProperty("variant").GetString() == "b").GetProperty("guardrails_broken");
        broken.EnumerateArray().ShouldHaveSingleItem().GetString()
            .ShouldBe(string.Create(CultureInfo.InvariantCulture, $"error_rate {(double)failedRouted / (routedToB + failedRouted):0.####} > 0.05"), results.ToString());
    }

    /// <summary>
    /// CUPED and a secondary metric on a real server: each user's spend before the experiment (a KPI by routing key)
    /// predicts their revenue in it; the results are the adjusted ones, equal to CUPED on the same values computed here.
    /// </summary>
    [Fact]
    public async Task Cuped_uses_each_users_pre_period_kpi_and_secondary_metrics_are_reported_beside_the_primary()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ShopAsync(client);

        // The pre-period: 200 users' spend, X ~ N(50, 10²), recorded before the experiment starts.
        var random = new Random(11);
        var spend = Enumerable.Range(0, 200).Select(_ => Math.Round(50 + (10 * Normal(random)), 2)).ToArray();
        (await client.PostAsJsonAsync("/api/v1/kpis", new { kpis = spend.Select((value, user) => new { name = "spend", value, routing_key = $"user-{user}" }) }, Cancel)).EnsureSuccessStatusCode();

        using (var created = await client.PutAsJsonAsync("/api/v1/experiments/revenue-cuped", new
        {
            endpoint = "shop", engine = "frequentist", planned_samples = 50,
            metric = new { name = "revenue", type = "mean", source = "kpi" },
            secondary_metrics = new[] { new { name = "conversion", type = "binomial" } },
            cuped = new { source = "kpi", name = "spend", lookback = "1d" },
        }, Cancel))
        {
            created.EnsureSuccessStatusCode();
        }

        // In the experiment: revenue Y = 0.8 X + N(0, 4²) (+1 for b), posted by prediction id; outcomes for the conversion metric.
        var values = new Dictionary<string, (List<double> Y, List<double> X)> { ["a"] = ([], []), ["b"] = ([], []) };
        var kpis = new List<object>();
        var feedback = new List<object>();
        for (var user = 0; user < 200; user++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/shop/infer") { Content = JsonContent.Create(new { inputs = new[] { ServingHelpers.IrisRow } }) };
            request.Headers.Add("X-User", $"user-{user}");
            using var response = await client.SendAsync(request, Cancel);
            var variant = response.Headers.GetValues("Ballast-Variant").Single();
            var predictionId = response.Headers.GetValues("Ballast-Prediction-Id").Single();
            var revenue = Math.Round((0.8 * spend[user]) + (4 * Normal(random)) + (variant == "b" ? 1 : 0), 2);
            values[variant].Y.Add(revenue);
            values[variant].X.Add(spend[user]);
            kpis.Add(new { name = "revenue", value = revenue, prediction_id = predictionId });
            feedback.Add(new { prediction_id = predictionId, outcome = random.NextDouble() < 0.3 ? 1 : 0 });
        }

        (await client.PostAsJsonAsync("/api/v1/kpis", new { kpis }, Cancel)).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback }, Cancel)).EnsureSuccessStatusCode();

        var results = await client.GetFromJsonAsync<JsonElement>("/api/v1/experiments/revenue-cuped/results", Cancel);
        var expected = Ballast.Statistics.Cuped.Analyze(values["a"].Y.ToArray(), values["a"].X.ToArray(), values["b"].Y.ToArray(), values["b"].X.ToArray());
        var cuped = results.GetProperty("cuped");
        (cuped.GetProperty("covariate").GetString(), cuped.GetProperty("lookback").GetString(), cuped.GetProperty("units_with_covariate").GetInt64()).ShouldBe(("kpi:spend", "1d", 200));
        cuped.GetProperty("theta").GetDouble().ShouldBe(expected.Theta, 1e-9);
        cuped.GetProperty("variance_reduction").GetDouble().ShouldBe(expected.VarianceReduction, 1e-9);
        cuped.GetProperty("variance_reduction").GetDouble().ShouldBeGreaterThan(0.7, "spend explains most of revenue");
        var variants = results.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant").GetString()!);
        variants["a"].GetProperty("mean").GetDouble().ShouldBe(expected.Control.Mean, 1e-9);
        variants["b"].GetProperty("mean").GetDouble().ShouldBe(expected.Treatment.Mean, 1e-9);
        variants["b"].GetProperty("unadjusted_mean").GetDouble().ShouldBe(values["b"].Y.Average(), 1e-9);

        var conversion = results.GetProperty("secondary_metrics").EnumerateArray().ShouldHaveSingleItem();
        (conversion.GetProperty("metric").GetString(), conversion.GetProperty("type").GetString(), conversion.GetProperty("source").GetString()).ShouldBe(("conversion", "binomial", "outcome"));
        var conversionB = conversion.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("variant").GetString() == "b");
        conversionB.GetProperty("adjusted_p_value").GetDouble().ShouldBe(conversionB.GetProperty("p_value").GetDouble(), 1e-12, "one metric and one treatment: nothing to adjust");
        results.GetProperty("correction").GetString().ShouldBe("benjamini_hochberg");
        var cli = await CliProcess.RunAsync("experiments", "results", "revenue-cuped", "--url", server.BaseAddress.ToString().TrimEnd('/'));
        cli.ExitCode.ShouldBe(0, cli.ToString());
        cli.Output.ShouldContain("CUPED on kpi:spend over the 1d before the start: variance ");
        cli.Output.ShouldContain("secondary metric conversion (binomial from outcome; p adjusted by benjamini_hochberg):");

        using var invalid = await client.PutAsJsonAsync("/api/v1/experiments/bad", new { endpoint = "shop", cuped = new { source = "clicks" }, secondary_metrics = new[] { new { type = "p99" } } }, Cancel);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await invalid.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid experiment 'bad': secondary_metrics[0] type 'p99' is not binomial or mean; cuped.source 'clicks' must be kpi, outcome, reward, dataset or model.");
    }

    /// <summary>
    /// CUPED with a covariate from a warehouse table registered as a dataset version: a table of each customer's spend
    /// (read whole) and an orders table with times (only the lookback before the start counts: older and later orders
    /// do not). Each experiment's results equal CUPED computed here on the same values; the version is pinned at the
    /// start and a bare name applied again keeps it; a column the table lacks is refused with the columns it has.
    /// </summary>
    [Fact]
    public async Task Cuped_reads_the_covariate_from_a_dataset_version_whole_or_over_the_lookback()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ShopAsync(client);

        // 150 customers (every third one is not in the tables: X = 0); spend X ~ N(50, 10²); orders: two in the last
        // day (counted with lookback 1d), one three days ago and one tomorrow (not counted).
        var random = new Random(17);
        var now = TimeProvider.System.GetUtcNow();
        string Time(TimeSpan offset) => (now + offset).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        var spend = new double[150];
        var recent = new double[150];
        var customers = new System.Text.StringBuilder("customer_id,spend,region\n");
        var orders = new System.Text.StringBuilder("customer,amount,ordered_at\n");
        for (var user = 0; user < 150; user++)
        {
            if (user % 3 == 2)
            {
                continue;
            }

            spend[user] = Math.Round(50 + (10 * Normal(random)), 2);
            customers.Append(System.Globalization.CultureInfo.InvariantCulture, $"user-{user},{spend[user]},eu\n");
            var first = Math.Round(20 + (5 * Normal(random)), 2);
            var second = Math.Round(20 + (5 * Normal(random)), 2);
            recent[user] = first + second;
            orders.Append(System.Globalization.CultureInfo.InvariantCulture, $"user-{user},{first},{Time(TimeSpan.FromHours(-2))}\n");
            orders.Append(System.Globalization.CultureInfo.InvariantCulture, $"user-{user},{second},{Time(TimeSpan.FromHours(-20))}\n");
            orders.Append(System.Globalization.CultureInfo.InvariantCulture, $"user-{user},500,{Time(TimeSpan.FromDays(-3))}\n");
            orders.Append(System.Globalization.CultureInfo.InvariantCulture, $"user-{user},700,{Time(TimeSpan.FromDays(1))}\n");
        }

        await ServingHelpers.AddDatasetAsync(client, "customers", customers.ToString(), "customers.csv");
        await ServingHelpers.AddDatasetAsync(client, "orders", orders.ToString(), "orders.csv");
        object Spec(object cuped) => new { endpoint = "shop", engine = "frequentist", planned_samples = 50, metric = new { name = "revenue", type = "mean", source = "kpi" }, cuped };
        var whole = new { source = "dataset", name = "customers", key = "customer_id", column = "spend" };
        using (var created = await client.PutAsJsonAsync("/api/v1/experiments/by-spend", Spec(whole), Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
            (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("experiment").GetProperty("cuped").GetProperty("name").GetString().ShouldBe("customers@1");
        }

        (await client.PutAsJsonAsync("/api/v1/experiments/by-orders", Spec(new { source = "dataset", name = "orders@1", key = "customer", column = "amount", timestamp = "ordered_at", lookback = "1d" }), Cancel))
            .EnsureSuccessStatusCode();

        // Revenue in the experiment: Y = 0.8 X + 0.5 recent + N(0, 3²) (+1 for b), posted by prediction id.
        var values = new Dictionary<string, (List<double> Y, List<double> Spend, List<double> Recent)> { ["a"] = ([], [], []), ["b"] = ([], [], []) };
        var kpis = new List<object>();
        for (var user = 0; user < 150; user++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/shop/infer") { Content = JsonContent.Create(new { inputs = new[] { ServingHelpers.IrisRow } }) };
            request.Headers.Add("X-User", $"user-{user}");
            using var response = await client.SendAsync(request, Cancel);
            var variant = response.Headers.GetValues("Ballast-Variant").Single();
            var revenue = Math.Round((0.8 * spend[user]) + (0.5 * recent[user]) + (3 * Normal(random)) + (variant == "b" ? 1 : 0), 2);
            values[variant].Y.Add(revenue);
            values[variant].Spend.Add(spend[user]);
            values[variant].Recent.Add(recent[user]);
            kpis.Add(new { name = "revenue", value = revenue, prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single() });
        }

        (await client.PostAsJsonAsync("/api/v1/kpis", new { kpis }, Cancel)).EnsureSuccessStatusCode();
        foreach (var (experiment, covariate, lookback, x) in new[] { ("by-spend", "dataset:customers@1:spend", (string?)null, "spend"), ("by-orders", "dataset:orders@1:amount", "1d", "recent") })
        {
            using var answer = await client.GetAsync($"/api/v1/experiments/{experiment}/results", Cancel);
            answer.StatusCode.ShouldBe(HttpStatusCode.OK, await answer.Content.ReadAsStringAsync(Cancel));
            var results = await answer.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            List<double> X(string variant) => x == "spend" ? values[variant].Spend : values[variant].Recent;
            var expected = Ballast.Statistics.Cuped.Analyze(values["a"].Y.ToArray(), X("a").ToArray(), values["b"].Y.ToArray(), X("b").ToArray());
            var cuped = results.GetProperty("cuped");
            cuped.GetProperty("covariate").GetString().ShouldBe(covariate);
            (cuped.TryGetProperty("lookback", out var given) && given.ValueKind == JsonValueKind.String ? given.GetString() : null).ShouldBe(lookback);
            cuped.GetProperty("units_with_covariate").GetInt64().ShouldBe(100, "two customers in three are in the tables");
            cuped.GetProperty("theta").GetDouble().ShouldBe(expected.Theta, 1e-9, experiment);
            cuped.GetProperty("variance_reduction").GetDouble().ShouldBe(expected.VarianceReduction, 1e-9, experiment);
            var variants = results.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant").GetString()!);
            variants["b"].GetProperty("mean").GetDouble().ShouldBe(expected.Treatment.Mean, 1e-9, experiment);
        }

        var cli = await CliProcess.RunAsync("experiments", "results", "by-spend", "--url", server.BaseAddress.ToString().TrimEnd('/'));
        cli.ExitCode.ShouldBe(0, cli.ToString());
        cli.Output.ShouldContain("CUPED on dataset:customers@1:spend (every row of the table): variance ");

        // A new version of the table: applying the same spec again (a bare name) keeps the version pinned at the start.
        await ServingHelpers.AddDatasetAsync(client, "customers", customers.ToString() + "user-149,1,eu\n", "customers.csv");
        using (var applied = await client.PutAsJsonAsync("/api/v1/experiments/by-spend", Spec(whole), Cancel))
        {
            (await applied.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("experiment").GetProperty("cuped").GetProperty("name").GetString().ShouldBe("customers@1");
        }

        using var missing = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec(new { source = "dataset", name = "customers", key = "customer_id", column = "spent" }), Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid experiment 'bad': cuped.column: customers@2 customers.csv has no column 'spent'; it has customer_id, spend, region.");
        using var text = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec(new { source = "dataset", name = "customers", key = "customer_id", column = "region" }), Cancel);
        (await text.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid experiment 'bad': cuped.column: column 'region' of customers@2 customers.csv is VARCHAR, not numeric or boolean.");
        using var lookbackAlone = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec(new { source = "dataset", name = "customers", key = "customer_id", lookback = "7d" }), Cancel);
        (await lookbackAlone.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid experiment 'bad': cuped: a dataset covariate needs column, the numeric column summed per key; cuped.lookback needs cuped.timestamp with source dataset (without a timestamp every row of the table is the pre-period).");
        using var unknown = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec(new { source = "dataset", name = "clients", key = "id", column = "spend" }), Cancel);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    /// <summary>
    /// CUPAC: the covariate is a registered model's prediction from a dataset of pre-experiment features (the iris
    /// fixture's probability of class 2, from four measurements per customer; one customer in three is not in the
    /// table). The alias is pinned to its version at the start and kept when the spec is applied again after it moved;
    /// the results equal CUPED computed here on the same model's predictions (ONNX Runtime on the fixture directly),
    /// alone and as a list of one covariate; a missing column, an unknown output and a column index out of range are
    /// refused with a 400 naming the field; results whose pinned model version was deleted since are a 409 naming it.
    /// </summary>
    [Fact]
    public async Task Cupac_takes_a_models_prediction_from_a_dataset_as_the_covariate()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ShopAsync(client);
        await Ballast.Tests.Tracking.MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "iris", alias = "champion", version = "2" });

        // 150 customers, two in three with measurements (seeded, across the three species' ranges).
        var random = new Random(31);
        var features = new float[150][];
        var customers = new System.Text.StringBuilder("customer_id,sepal_length,sepal_width,petal_length,petal_width\n");
        for (var user = 0; user < 150; user++)
        {
            if (user % 3 == 2)
            {
                continue;
            }

            double Between(double low, double high) => Math.Round(low + ((high - low) * random.NextDouble()), 1);
            var row = new[] { Between(4.5, 7.5), Between(2.2, 4), Between(1, 6.5), Between(0.1, 2.4) };
            features[user] = row.Select(value => (float)value).ToArray();
            customers.Append(System.Globalization.CultureInfo.InvariantCulture, $"user-{user},{row[0]},{row[1]},{row[2]},{row[3]}\n");
        }

        await ServingHelpers.AddDatasetAsync(client, "customers", customers.ToString(), "customers.csv");

        // The model's predictions computed here: P(class 2) per customer, as the server keeps a float (its shortest text).
        var measured = Enumerable.Range(0, 150).Where(user => features[user] is not null).ToList();
        var prediction = new double[150];
        using (var iris = Ballast.Runtime.OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx")))
        {
            var output = iris.Infer([new Ballast.Runtime.Tensor("float_input", "FP32", [measured.Count, 4], measured.SelectMany(user => features[user]).ToArray())])
                .Single(tensor => tensor.Name == "output_probability");
            var probabilities = (float[])output.Data;
            for (var i = 0; i < measured.Count; i++)
            {
                prediction[measured[i]] = double.Parse(probabilities[(3 * i) + 2].ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        prediction.Where(p => p > 0.5).Count().ShouldBeGreaterThan(10, "the features reach the virginica range");
        object Spec(object cuped) => new { endpoint = "shop", engine = "frequentist", planned_samples = 50, metric = new { name = "revenue", type = "mean", source = "kpi" }, cuped };
        var byModel = new
        {
            source = "model", model = "models:/iris@champion", name = "customers", key = "customer_id", output = "output_probability[2]",
            feature_names = new { float_input = new[] { "sepal_length", "sepal_width", "petal_length", "petal_width" } },
        };
        using (var created = await client.PutAsJsonAsync("/api/v1/experiments/cupac", Spec(byModel), Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
            var cuped = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("experiment").GetProperty("cuped");
            (cuped.GetProperty("model").GetString(), cuped.GetProperty("name").GetString()).ShouldBe(("models:/iris/2", "customers@1"));
        }

        (await client.PutAsJsonAsync("/api/v1/experiments/cupac-list", Spec(new { covariates = new[] { byModel } }), Cancel)).EnsureSuccessStatusCode();

        // Revenue in the experiment: Y = 20 P(class 2) + N(0, 2²) (+1 for b), posted by prediction id.
        var values = new Dictionary<string, (List<double> Y, List<double> X)> { ["a"] = ([], []), ["b"] = ([], []) };
        var kpis = new List<object>();
        for (var user = 0; user < 150; user++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/shop/infer") { Content = JsonContent.Create(new { inputs = new[] { ServingHelpers.IrisRow } }) };
            request.Headers.Add("X-User", $"user-{user}");
            using var response = await client.SendAsync(request, Cancel);
            var variant = response.Headers.GetValues("Ballast-Variant").Single();
            var revenue = Math.Round((20 * prediction[user]) + (2 * Normal(random)) + (variant == "b" ? 1 : 0), 2);
            values[variant].Y.Add(revenue);
            values[variant].X.Add(prediction[user]);
            kpis.Add(new { name = "revenue", value = revenue, prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single() });
        }

        (await client.PostAsJsonAsync("/api/v1/kpis", new { kpis }, Cancel)).EnsureSuccessStatusCode();
        var expected = Ballast.Statistics.Cuped.Analyze(values["a"].Y.ToArray(), values["a"].X.ToArray(), values["b"].Y.ToArray(), values["b"].X.ToArray());
        expected.VarianceReduction.ShouldBeGreaterThan(0.5, "the prediction explains most of the revenue");
        using (var answer = await client.GetAsync("/api/v1/experiments/cupac/results", Cancel))
        {
            answer.StatusCode.ShouldBe(HttpStatusCode.OK, await answer.Content.ReadAsStringAsync(Cancel));
            var results = await answer.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            var cuped = results.GetProperty("cuped");
            cuped.GetProperty("covariate").GetString().ShouldBe("model:iris/2@customers@1:output_probability[2]");
            cuped.TryGetProperty("lookback", out var lookback).ShouldBeFalse(lookback.ToString());
            cuped.GetProperty("units_with_covariate").GetInt64().ShouldBe(100, "two customers in three are in the table");
            cuped.GetProperty("theta").GetDouble().ShouldBe(expected.Theta, 1e-9);
            cuped.GetProperty("variance_reduction").GetDouble().ShouldBe(expected.VarianceReduction, 1e-9);
            var variants = results.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant").GetString()!);
            variants["b"].GetProperty("mean").GetDouble().ShouldBe(expected.Treatment.Mean, 1e-9);
        }

        // A list of one covariate gives single-covariate CUPED's numbers.
        var listed = (await client.GetFromJsonAsync<JsonElement>("/api/v1/experiments/cupac-list/results", Cancel)).GetProperty("cuped");
        var only = listed.GetProperty("covariates")[0];
        only.GetProperty("covariate").GetString().ShouldBe("model:iris/2@customers@1:output_probability[2]");
        only.GetProperty("theta").GetDouble().ShouldBe(expected.Theta, 1e-9);
        listed.GetProperty("variance_reduction").GetDouble().ShouldBe(expected.VarianceReduction, 1e-9);

        // Both experiments read the customers file's scores from the reference cache: one scores file, written once.
        var cached = Directory.GetFiles(Path.Combine(server.DataDir, "cache", "references")).Select(path => Path.GetFileName(path)!).ToList();
        cached.Count(name => name.StartsWith("scores-", StringComparison.Ordinal)).ShouldBe(1, string.Join(", ", cached));

        // The alias moves: applying the same spec again keeps the version pinned at the start.
        await Ballast.Tests.Tracking.MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "iris", alias = "champion", version = "1" });
        using (var applied = await client.PutAsJsonAsync("/api/v1/experiments/cupac", Spec(byModel), Cancel))
        {
            applied.StatusCode.ShouldBe(HttpStatusCode.OK, await applied.Content.ReadAsStringAsync(Cancel));
            (await applied.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("experiment").GetProperty("cuped").GetProperty("model").GetString().ShouldBe("models:/iris/2");
        }

        // Without feature_names the [N, 4] input reads float_input[0] … float_input[3], which the table lacks.
        using var missing = await client.PutAsJsonAsync("/api/v1/experiments/bad",
            Spec(new { source = "model", model = "models:/iris/1", name = "customers", key = "customer_id", output = "output_label" }), Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid experiment 'bad': " + string.Join("; ", Enumerable.Range(0, 4).Select(i =>
                $"cuped.model: customers@1 customers.csv has no column 'float_input[{i}]' for the model's input 'float_input'; it has customer_id, sepal_length, sepal_width, petal_length, petal_width")) + ".");
        using var unknown = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec(byModel with { output = "probability" }), Cancel);
        unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid experiment 'bad': cuped.output: models:/iris/1 has no output 'probability'; it has output_label, output_probability.");
        using var indexed = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec(byModel with { output = "output_label[0]" }), Cancel);
        (await indexed.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid experiment 'bad': cuped.output: output 'output_label' of models:/iris/1 is one value a row (INT64 [-1]); give it as output_label, without an index.");

        // The titanic pipeline's probabilities are [N, 2]: column 2 is out of range; its five inputs are not in the table.
        await ServingHelpers.RegisterAsync(client, "titanic", "titanic_pipeline.onnx");
        using var outOfRange = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec(new
        {
            source = "model", model = "models:/titanic/1", name = "customers", key = "customer_id", output = "probabilities[2]",
            feature_names = new { pclass = new[] { "sepal_length" }, sex = new[] { "customer_id" }, age = new[] { "petal_length" }, fare = new[] { "petal_width" }, embarked = new[] { "customer_id" } },
        }), Cancel);
        outOfRange.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await outOfRange.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid experiment 'bad': cuped.output: output 'probabilities' of models:/titanic/1 has 2 columns; 2 is not between 0 and 1.");
        using var noModel = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec(byModel with { model = "models:/ltv@champion" }), Cancel);
        noModel.StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // A pinned model version deleted after the start: the results cannot be computed, a 409 naming it (not a 500).
        await ServingHelpers.RegisterAsync(client, "ltv", "logreg_iris.onnx");
        (await client.PutAsJsonAsync("/api/v1/experiments/doomed", Spec(byModel with { model = "models:/ltv/1" }), Cancel)).EnsureSuccessStatusCode();
        using (var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/2.0/mlflow/model-versions/delete") { Content = JsonContent.Create(new { name = "ltv", version = "1" }) })
        {
            (await client.SendAsync(delete, Cancel)).EnsureSuccessStatusCode();
        }

        using var gone = await client.GetAsync("/api/v1/experiments/doomed/results", Cancel);
        gone.StatusCode.ShouldBe(HttpStatusCode.Conflict, await gone.Content.ReadAsStringAsync(Cancel));
        gone.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await gone.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldStartWith(
            "Cannot compute the results of experiment 'doomed': cuped: model version models:/ltv/1, pinned when the experiment started, does not exist any more (");

        // A model that itself refuses the data while scoring (not a missing column): an ML.NET model whose input is a key
        // of 0..2. The start passes (the columns are there and numeric); the table's rows hold 3 and 9, which are not keys
        // of it, so the results are a 409 naming the model and the file (not a 500).
        var folder = Directory.CreateTempSubdirectory("ballast-cupac-").FullName;
        try
        {
            using (var form = new MultipartFormDataContent())
            {
                var zip = new ByteArrayContent(await File.ReadAllBytesAsync(Ballast.Tests.Runtime.MlNetTestModels.SaveKeyed(folder), Cancel));
                zip.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/zip");
                form.Add(zip, "file", "visits.zip");
                using var registered = await client.PostAsync("/api/v1/models/visits/versions", form, Cancel);
                registered.StatusCode.ShouldBe(HttpStatusCode.Created, await registered.Content.ReadAsStringAsync(Cancel));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        await ServingHelpers.AddDatasetAsync(client, "visits", "customer_id,Segment,Spend\nuser-0,1,10\nuser-1,3,20\nuser-2,9,30\n", "visits.csv");
        (await client.PutAsJsonAsync("/api/v1/experiments/refused", Spec(new { source = "model", model = "models:/visits/1", name = "visits", key = "customer_id", output = "Score" }), Cancel))
            .EnsureSuccessStatusCode();
        using var refused = await client.GetAsync("/api/v1/experiments/refused/results", Cancel);
        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict, await refused.Content.ReadAsStringAsync(Cancel));
        refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var reason = (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!;
        const string Prefix = "Cannot compute the results of experiment 'refused': cuped: models:/visits/1 could not score visits@1 visits.csv: ";
        reason.ShouldStartWith(Prefix);
        reason[Prefix.Length..].ShouldStartWith("models:/visits/1 failed on rows 1 to 3 of the reference");
        reason.ShouldContain("is not a key of 0..2");
    }

    /// <summary>
    /// CUPED with two covariates at once (regression adjustment): each user's spend before the experiment (a KPI by
    /// routing key) and their visits from a warehouse table (a dataset version; one user in three is not in it). The
    /// results equal <see cref="Ballast.Statistics.CupedRegressions"/> on the same values computed here, each covariate
    /// with its θ; too many or duplicate covariates are refused with a 400.
    /// </summary>
    [Fact]
    public async Task Cuped_with_two_covariates_adjusts_by_the_regression_on_both()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ShopAsync(client);

        // 150 users: spend X1 ~ N(50, 10²) for all, visits X2 ~ N(20, 5²) for two users in three (the others: 0).
        var random = new Random(23);
        var spend = new double[150];
        var visits = new double[150];
        var customers = new System.Text.StringBuilder("customer_id,visits\n");
        for (var user = 0; user < 150; user++)
        {
            spend[user] = Math.Round(50 + (10 * Normal(random)), 2);
            if (user % 3 != 2)
            {
                visits[user] = Math.Round(20 + (5 * Normal(random)), 1);
                customers.Append(System.Globalization.CultureInfo.InvariantCulture, $"user-{user},{visits[user]}\n");
            }
        }

        (await client.PostAsJsonAsync("/api/v1/kpis", new { kpis = spend.Select((value, user) => new { name = "spend", value, routing_key = $"user-{user}" }) }, Cancel)).EnsureSuccessStatusCode();
        await ServingHelpers.AddDatasetAsync(client, "customers", customers.ToString(), "customers.csv");
        object Spec(object[] covariates) => new
        {
            endpoint = "shop", engine = "frequentist", planned_samples = 50, metric = new { name = "revenue", type = "mean", source = "kpi" }, cuped = new { covariates },
        };
        var bySpend = new { source = "kpi", name = "spend", lookback = "1d" };
        var byVisits = new { source = "dataset", name = "customers", key = "customer_id", column = "visits" };
        using (var created = await client.PutAsJsonAsync("/api/v1/experiments/two-covariates", Spec([bySpend, byVisits]), Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
            var pinned = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("experiment").GetProperty("cuped").GetProperty("covariates");
            pinned.EnumerateArray().Select(covariate => covariate.GetProperty("name").GetString()).ShouldBe(["spend", "customers@1"]);
        }

        // Revenue in the experiment: Y = 0.6 spend + 1.5 visits + N(0, 3²) (+1 for b), posted by prediction id.
        var values = new Dictionary<string, (List<double> Y, List<IReadOnlyList<double>> X)> { ["a"] = ([], []), ["b"] = ([], []) };
        var kpis = new List<object>();
        for (var user = 0; user < 150; user++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/shop/infer") { Content = JsonContent.Create(new { inputs = new[] { ServingHelpers.IrisRow } }) };
            request.Headers.Add("X-User", $"user-{user}");
            using var response = await client.SendAsync(request, Cancel);
            var variant = response.Headers.GetValues("Ballast-Variant").Single();
            var revenue = Math.Round((0.6 * spend[user]) + (1.5 * visits[user]) + (3 * Normal(random)) + (variant == "b" ? 1 : 0), 2);
            values[variant].Y.Add(revenue);
            values[variant].X.Add([spend[user], visits[user]]);
            kpis.Add(new { name = "revenue", value = revenue, prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single() });
        }

        (await client.PostAsJsonAsync("/api/v1/kpis", new { kpis }, Cancel)).EnsureSuccessStatusCode();
        using var answer = await client.GetAsync("/api/v1/experiments/two-covariates/results", Cancel);
        answer.StatusCode.ShouldBe(HttpStatusCode.OK, await answer.Content.ReadAsStringAsync(Cancel));
        var results = await answer.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var expected = Ballast.Statistics.CupedRegressions.FromSums(
            [Ballast.Statistics.CovariateSums.Of(values["a"].Y, values["a"].X), Ballast.Statistics.CovariateSums.Of(values["b"].Y, values["b"].X)]);
        var cuped = results.GetProperty("cuped");
        cuped.TryGetProperty("theta", out _).ShouldBeFalse("several covariates: each has its own θ");
        cuped.GetProperty("units_with_covariate").GetInt64().ShouldBe(150);
        cuped.GetProperty("variance_reduction").GetDouble().ShouldBe(expected.VarianceReduction, 1e-9);
        cuped.GetProperty("variance_reduction").GetDouble().ShouldBeGreaterThan(0.8, "spend and visits explain most of revenue");
        var covariates = cuped.GetProperty("covariates").EnumerateArray().ToList();
        covariates.Select(covariate => (covariate.GetProperty("covariate").GetString(), covariate.TryGetProperty("lookback", out var lookback) ? lookback.GetString() : null,
            covariate.GetProperty("units_with_covariate").GetInt64(), covariate.TryGetProperty("dropped", out _))).ShouldBe([("kpi:spend", "1d", 150L, false), ("dataset:customers@1:visits", null, 100L, false)]);
        covariates[0].GetProperty("theta").GetDouble().ShouldBe(expected.Theta[0], 1e-9);
        covariates[1].GetProperty("theta").GetDouble().ShouldBe(expected.Theta[1], 1e-9);
        covariates[1].GetProperty("theta").GetDouble().ShouldBe(1.5, 0.3, "the slope revenue was made with");
        var variants = results.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant").GetString()!);
        variants["a"].GetProperty("mean").GetDouble().ShouldBe(expected.Groups[0].Mean, 1e-9);
        variants["b"].GetProperty("mean").GetDouble().ShouldBe(expected.Groups[1].Mean, 1e-9);
        variants["b"].GetProperty("unadjusted_mean").GetDouble().ShouldBe(values["b"].Y.Average(), 1e-9);
        var difference = Ballast.Statistics.FrequentistTest.TwoSided(expected.Groups[0], expected.Groups[1], Ballast.Statistics.DifferenceType.Absolute);
        variants["b"].GetProperty("absolute_lift").GetDouble().ShouldBe(difference.Estimate, 1e-9);

        var cli = await CliProcess.RunAsync("experiments", "results", "two-covariates", "--url", server.BaseAddress.ToString().TrimEnd('/'));
        cli.ExitCode.ShouldBe(0, cli.ToString());
        cli.Output.ShouldContain("CUPED on kpi:spend over 1d (theta ");
        cli.Output.ShouldContain(", dataset:customers@1:visits (theta ");

        var many = Enumerable.Range(1, 11).Select(i => (object)new { source = "kpi", name = $"spend{i}" }).ToArray();
        using var tooMany = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec(many), Cancel);
        tooMany.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        tooMany.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await tooMany.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("Invalid experiment 'bad': cuped.covariates: give 1 to 10 covariates, not 11.");
        using var twice = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec([bySpend, byVisits, new { source = "kpi", name = "spend", lookback = "1d" }]), Cancel);
        twice.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await twice.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("Invalid experiment 'bad': cuped.covariates: kpi:spend over 1d is given 2 times; give each covariate once.");
        using var both = await client.PutAsJsonAsync("/api/v1/experiments/bad", new { endpoint = "shop", cuped = new { source = "kpi", name = "spend", covariates = new[] { byVisits } } }, Cancel);
        (await both.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("Invalid experiment 'bad': cuped: give one covariate (source, name, ...) or a list of them as covariates, not both.");
        using var missing = await client.PutAsJsonAsync("/api/v1/experiments/bad", Spec([bySpend, new { source = "dataset", name = "customers", key = "customer_id", column = "age" }]), Cancel);
        (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("Invalid experiment 'bad': cuped.covariates[1].column: customers@1 customers.csv has no column 'age'; it has customer_id, visits.");
    }

    [Fact]
    public async Task A_kpi_guardrail_stops_a_variant_that_sells_more_but_is_refunded_more()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/store", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } },
        }, Cancel)).EnsureSuccessStatusCode();
        using (var created = await client.PutAsJsonAsync("/api/v1/experiments/refund-guard", new
        {
            endpoint = "store",
            metric = new { name = "revenue", type = "mean", source = "kpi" },
            guardrails = new object[] { new { metric = "refunds", source = "kpi", type = "mean", inverse = true }, new { metric = "error_rate", max = 0.01 } },
        }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
        }

        // b sells 12 a request against a's 10 and is refunded 3 against 1 (each ± 1, seeded).
        var random = new Random(5);
        var kpis = new List<object>();
        for (var i = 0; i < 200; i++)
        {
            using var response = await client.PostAsJsonAsync("/v2/models/store/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
            var treated = response.Headers.GetValues("Ballast-Variant").Single() == "b";
            var id = response.Headers.GetValues("Ballast-Prediction-Id").Single();
            kpis.Add(new { name = "revenue", value = (treated ? 12 : 10) + (random.NextDouble() * 2) - 1, prediction_id = id });
            kpis.Add(new { name = "refunds", value = (treated ? 3 : 1) + (random.NextDouble() * 2) - 1, prediction_id = id });
        }

        (await client.PostAsJsonAsync("/api/v1/kpis", new { kpis }, Cancel)).EnsureSuccessStatusCode();
        var results = await client.GetFromJsonAsync<JsonElement>("/api/v1/experiments/refund-guard/results", Cancel);
        var b = results.GetProperty("variants").EnumerateArray().Single(variant => variant.GetProperty("variant").GetString() == "b");
        b.GetProperty("verdict").GetString().ShouldBe("better", results.ToString());
        var broken = b.GetProperty("guardrails_broken").EnumerateArray().ShouldHaveSingleItem().GetString()!;
        broken.ShouldStartWith("kpi:refunds +");
        broken.ShouldEndWith("% against the control, significantly higher (lower is better)");
        results.GetProperty("decision").GetString().ShouldBe("keep a", results.ToString());
        var refunds = results.GetProperty("guardrail_metrics").EnumerateArray().ShouldHaveSingleItem();
        refunds.GetProperty("metric").GetString().ShouldBe("refunds");
        refunds.GetProperty("inverse").GetBoolean().ShouldBeTrue();
        // Refunds tripled: worse, for a metric where lower is better (the verdict is not the sign of the lift).
        var refundsOfB = refunds.GetProperty("variants").EnumerateArray().Single(variant => variant.GetProperty("variant").GetString() == "b");
        refundsOfB.GetProperty("verdict").GetString().ShouldBe("worse");
        refundsOfB.GetProperty("relative_lift").GetDouble().ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task A_revenue_kpi_posted_by_prediction_or_by_routing_key_is_the_metric_of_its_variant()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ShopAsync(client);
        (await client.PutAsJsonAsync("/api/v1/experiments/revenue-ab", new { endpoint = "shop", metric = new { name = "revenue", type = "mean", source = "kpi" } }, Cancel)).EnsureSuccessStatusCode();

        // 200 users, one prediction each; even users' revenue is posted by prediction id, odd users' by routing key.
        var random = new Random(9);
        var kpis = new List<object>();
        var expected = new Dictionary<string, List<double>> { ["a"] = [], ["b"] = [] };
        for (var user = 0; user < 200; user++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/shop/infer") { Content = JsonContent.Create(new { inputs = new[] { ServingHelpers.IrisRow } }) };
            request.Headers.Add("X-User", $"user-{user}");
            using var response = await client.SendAsync(request, Cancel);
            var variant = response.Headers.GetValues("Ballast-Variant").Single();
            var revenue = Math.Round((variant == "b" ? 12 : 10) + (random.NextDouble() * 4) - 2, 2);
            expected[variant].Add(revenue);
            kpis.Add(user % 2 == 0
                ? new { name = "revenue", value = revenue, prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single() }
                : new { name = "revenue", value = revenue, routing_key = $"user-{user}" } as object);
        }

        using (var posted = await client.PostAsJsonAsync("/api/v1/kpis", new { kpis }, Cancel))
        {
            (await posted.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("accepted").GetInt32().ShouldBe(200);
        }

        var results = await client.GetFromJsonAsync<JsonElement>("/api/v1/experiments/revenue-ab/results", Cancel);
        var variants = results.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant").GetString()!);
        foreach (var name in new[] { "a", "b" })
        {
            variants[name].GetProperty("samples").GetInt64().ShouldBe(expected[name].Count);
            variants[name].GetProperty("mean").GetDouble().ShouldBe(expected[name].Average(), 1e-9);
        }

        results.GetProperty("decision").GetString().ShouldBe("ship b", results.ToString());

        using var invalid = await client.PostAsJsonAsync("/api/v1/kpis", new { name = "Revenue", value = 1, prediction_id = "p", routing_key = "u" }, Cancel);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await invalid.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid KPIs: item 0: name 'Revenue' must be 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter; item 0: give exactly one of prediction_id (a Ballast-Prediction-Id) or routing_key (up to 256 characters), or only an entity.");
    }

    /// <summary>Iris registered twice and the endpoint <c>shop</c>: a 50/50 split of versions 1 and 2, sticky by the header X-User (one user, one variant).</summary>
    private static async Task ShopAsync(HttpClient client)
    {
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/shop", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } },
            sticky = new { header = "X-User" },
        }, Cancel)).EnsureSuccessStatusCode();
    }

    /// <summary>A standard normal draw (Box–Muller) from a seeded generator.</summary>
    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
