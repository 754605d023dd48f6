using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Security;
using Ballast.Tests.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Experiments;

/// <summary>Stopping and concluding an A/B experiment on a real server: writer role, status codes, problem+json, and traffic moved to the winner.</summary>
public sealed class AbExperimentDecisionTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_writer_stops_then_concludes_with_apply_and_the_endpoint_then_serves_only_the_winner()
    {
        await using var server = await RunningServer.StartAsync();
        var keys = server.App.Services.GetRequiredService<ApiKeyStore>();
        var writerKey = (await keys.CreateAsync("ops-writer", ApiKeyRole.Writer, Cancel)).Token;
        var readerKey = (await keys.CreateAsync("analyst", ApiKeyRole.Reader, Cancel)).Token;
        using var writer = server.Client(writerKey);
        using var reader = server.Client(readerKey);
        await StartAsync(writer, "iris-ab");

        using (var refused = await reader.PostAsync("/api/v1/experiments/iris-ab/stop", null, Cancel))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        }

        (await reader.PostAsJsonAsync("/api/v1/experiments/iris-ab/conclude", new { winner = "b" }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await reader.GetFromJsonAsync<JsonElement>("/api/v1/experiments/iris-ab", Cancel)).GetProperty("status").GetString().ShouldBe("running", "a reader reads");

        using (var stopped = await writer.PostAsync("/api/v1/experiments/iris-ab/stop", null, Cancel))
        {
            stopped.StatusCode.ShouldBe(HttpStatusCode.OK, await stopped.Content.ReadAsStringAsync(Cancel));
            var body = await stopped.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            (body.GetProperty("status").GetString(), body.GetProperty("stopped_by").GetString()).ShouldBe(("stopped", "ops-writer"));
            body.GetProperty("stopped_at").GetInt64().ShouldBeGreaterThanOrEqualTo(body.GetProperty("started_at").GetInt64());
            body.TryGetProperty("conclusion", out _).ShouldBeFalse();
        }

        var frozen = await writer.GetFromJsonAsync<JsonElement>("/api/v1/experiments/iris-ab/results", Cancel);
        using (var twice = await writer.PostAsync("/api/v1/experiments/iris-ab/stop", null, Cancel))
        {
            twice.StatusCode.ShouldBe(HttpStatusCode.Conflict);
            twice.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            var problem = await twice.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            (problem.GetProperty("status").GetInt32(), problem.GetProperty("code").GetString(), problem.GetProperty("title").GetString()).ShouldBe((409, "INVALID_STATE", "Conflict with the current state"));
            problem.GetProperty("detail").GetString()!.ShouldStartWith("Experiment 'iris-ab' was stopped by ops-writer at ");
        }

        using (var unknown = await writer.PostAsJsonAsync("/api/v1/experiments/iris-ab/conclude", new { winner = "c", reason = "typo", apply = true }, Cancel))
        {
            unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await unknown.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
                .ShouldBe("Cannot conclude experiment 'iris-ab': winner 'c' is not a variant of the experiment (a, b).");
        }

        (await writer.PostAsJsonAsync("/api/v1/experiments/nope/conclude", new { winner = "b" }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // Traffic after the stop does not move the results.
        await ScoreAsync(writer, requests: 40, seed: 9);
        (await writer.GetFromJsonAsync<JsonElement>("/api/v1/experiments/iris-ab/results", Cancel)).GetProperty("variants").GetRawText().ShouldBe(frozen.GetProperty("variants").GetRawText());

        using (var concluded = await writer.PostAsJsonAsync("/api/v1/experiments/iris-ab/conclude", new { winner = "b", reason = "b converts twice as often", apply = true }, Cancel))
        {
            concluded.StatusCode.ShouldBe(HttpStatusCode.OK, await concluded.Content.ReadAsStringAsync(Cancel));
            var body = await concluded.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            body.GetProperty("status").GetString().ShouldBe("concluded");
            var conclusion = body.GetProperty("conclusion");
            (conclusion.GetProperty("winner").GetString(), conclusion.GetProperty("reason").GetString(), conclusion.GetProperty("apply").GetBoolean(), conclusion.GetProperty("concluded_by").GetString())
                .ShouldBe(("b", "b converts twice as often", true, "ops-writer"));
            conclusion.GetProperty("applied_at").GetInt64().ShouldBeGreaterThanOrEqualTo(conclusion.GetProperty("concluded_at").GetInt64());
            conclusion.GetProperty("results").GetProperty("variants").GetRawText().ShouldBe(frozen.GetProperty("variants").GetRawText(), "the snapshot is the stopped results");
            conclusion.GetProperty("results").GetProperty("decision").GetString().ShouldBe(frozen.GetProperty("decision").GetString());
        }

        var endpoint = await writer.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel);
        endpoint.GetProperty("variants").EnumerateArray().Select(v => (v.GetProperty("name").GetString(), v.GetProperty("weight").GetInt32())).ShouldBe([("a", 0), ("b", 100)]);
        // The routing snapshot swapped with the change: every request now reaches b.
        for (var i = 0; i < 20; i++)
        {
            using var scored = await writer.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
            scored.Headers.GetValues("Ballast-Variant").Single().ShouldBe("b");
        }

        using (var again = await writer.PostAsJsonAsync("/api/v1/experiments/iris-ab/conclude", new { winner = (string?)null, reason = "no" }, Cancel))
        {
            again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
            (await again.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldContain("(winner: b); a decision is final.");
        }

        var listed = (await reader.GetFromJsonAsync<JsonElement>("/api/v1/experiments", Cancel)).GetProperty("experiments").EnumerateArray().Single();
        (listed.GetProperty("status").GetString(), listed.GetProperty("conclusion").GetProperty("winner").GetString()).ShouldBe(("concluded", "b"));
    }

    [Fact]
    public async Task The_cli_stops_and_concludes_and_reports_a_refusal_on_one_line()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await StartAsync(client, "iris-ab");

        var stopped = await CliProcess.RunAsync("experiments", "stop", "iris-ab", "--url", url);
        stopped.ExitCode.ShouldBe(0, stopped.ToString());
        stopped.Output.ShouldStartWith("iris-ab: stopped at ");
        var twice = await CliProcess.RunAsync("experiments", "stop", "iris-ab", "--url", url);
        twice.ExitCode.ShouldBe(1, twice.ToString());
        twice.Error.ShouldContain("Experiment 'iris-ab' was stopped by ");

        var wrong = await CliProcess.RunAsync("experiments", "conclude", "iris-ab", "--winner", "c", "--url", url);
        wrong.ExitCode.ShouldBe(1, wrong.ToString());
        wrong.Error.ShouldContain("winner 'c' is not a variant of the experiment (a, b)");

        var concluded = await CliProcess.RunAsync("experiments", "conclude", "iris-ab", "--winner", "b", "--reason", "b converts better", "--url", url);
        concluded.ExitCode.ShouldBe(0, concluded.ToString());
        concluded.Output.ShouldMatch(@"^iris-ab: concluded by \S+ at [0-9-]+ [0-9:]+Z, winner b \(b converts better\)\s*$");
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("weight").GetInt32())
            .ShouldBe([50, 50], "without --apply the endpoint stays as it is");

        var json = await CliProcess.RunAsync("experiments", "conclude", "iris-ab", "--url", url, "--json");
        json.ExitCode.ShouldBe(1, json.ToString());
        json.Error.ShouldContain("a decision is final");
    }

    /// <summary>Two versions of iris split 50/50 on the endpoint <c>iris</c>, the experiment, and 100 scored requests with outcomes (b converts 60%, a 30%).</summary>
    private static async Task StartAsync(HttpClient client, string name)
    {
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } } }, Cancel))
            .EnsureSuccessStatusCode();
        using (var created = await client.PostAsJsonAsync("/api/v1/experiments", new { name, endpoint = "iris", metric = new { name = "conversion", type = "binomial" }, engine = "frequentist", planned_samples = 40 }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
            (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status").GetString().ShouldBe("running");
        }

        await ScoreAsync(client, requests: 100, seed: 5);
    }

    private static async Task ScoreAsync(HttpClient client, int requests, int seed)
    {
        var random = new Random(seed);
        var feedback = new List<object>();
        for (var i = 0; i < requests; i++)
        {
            using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
            var variant = response.Headers.GetValues("Ballast-Variant").Single();
            feedback.Add(new { prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single(), outcome = random.NextDouble() < (variant == "b" ? 0.6 : 0.3) ? 1 : 0 });
        }

        (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback }, Cancel)).EnsureSuccessStatusCode();
    }
}
