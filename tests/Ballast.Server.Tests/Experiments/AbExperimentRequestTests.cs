using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Tests.Serving;

namespace Ballast.Tests.Experiments;

/// <summary>
/// What the experiments API refuses, on a real server, as a user of GrowthBook or Optimizely would make the mistakes:
/// every problem of one request in one 400 (problem+json) naming the field, nothing dropped silently.
/// </summary>
public sealed class AbExperimentRequestTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_experiment_is_refused_with_its_own_problems_and_its_endpoints_and_covariates_in_one_400()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } } }, Cancel)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/api/v1/endpoints/solo", new { variants = new[] { new { name = "a", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();

        // An unknown control beside a misspelt engine and an alpha out of range: all three at once, not the first two only.
        (await ProblemsAsync(client, new { name = "x", endpoint = "iris", engine = "bayes", alpha = 0.7, control = "c" })).ShouldBe([
            "engine 'bayes' is not one of frequentist, sequential, bayesian",
            "alpha 0.7 must be between 0 and 0.5",
            "control 'c' is not a variant of endpoint 'iris' (a, b)",
        ]);
        (await ProblemsAsync(client, new { name = "s", endpoint = "solo", alpha = 2 })).ShouldBe([
            "alpha 2 must be between 0 and 0.5",
            "endpoint 'solo' has one variant; an experiment compares two or more",
        ]);

        // A missing endpoint or dataset is one of the problems when there are others...
        (await ProblemsAsync(client, new { name = "y", endpoint = "nosuch", engine = "bayes" })).ShouldBe([
            "engine 'bayes' is not one of frequentist, sequential, bayesian",
            "endpoint 'nosuch' does not exist",
        ]);
        (await ProblemsAsync(client, new { name = "z", endpoint = "iris", control = "c", cuped = new { source = "dataset", name = "clients", key = "id", column = "spend" } })).ShouldBe([
            "control 'c' is not a variant of endpoint 'iris' (a, b)",
            "cuped.name: Dataset 'clients' does not exist; `ballast data list` shows the datasets there are",
        ]);

        // ... and a 404 when it is the only thing wrong.
        using var alone = await client.PostAsJsonAsync("/api/v1/experiments", new { name = "w", endpoint = "nosuch" }, Cancel);
        alone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync("/api/v1/experiments/x", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_guardrail_limit_that_no_variant_can_keep_is_refused_naming_its_position()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } } }, Cancel)).EnsureSuccessStatusCode();

        // A negative latency or error rate, or an error rate over 100%: once accepted, and then every variant "broke" it.
        (await ProblemsAsync(client, new
        {
            name = "g", endpoint = "iris",
            guardrails = new object[]
            {
                new { metric = "error_rate", max = -1.0 }, new { metric = "latency_p99_ms", max = -5.0 }, new { metric = "error_rate", max = 5.0 },
                new { metric = "latency_p95_ms", max = 50.0 }, new { metric = "latency_mean_ms" },
            },
        })).ShouldBe([
            "guardrails[0].max -1 must be a number at least 0",
            "guardrails[1].max -5 must be a number at least 0",
            "guardrails[2].max 5 must be between 0 and 1 for error_rate (a share of requests: 0.01 is 1%)",
            "guardrails[3].metric 'latency_p95_ms' is not one of latency_p99_ms, latency_mean_ms, error_rate (or give a source, kpi, outcome or reward, for a metric guardrail)",
            "guardrails[4].max: give the most a shipped variant may have",
        ]);

        // The docs' limits are taken as they are, 0 included.
        using var created = await client.PostAsJsonAsync("/api/v1/experiments", new
        {
            name = "g", endpoint = "iris",
            guardrails = new object[] { new { metric = "latency_p99_ms", max = 50.0 }, new { metric = "error_rate", max = 0.01 }, new { metric = "latency_mean_ms", max = 0.0 } },
        }, Cancel);
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task A_kpi_beside_a_batch_is_refused_not_dropped_and_every_problem_of_a_batch_is_named_at_once()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();

        // One value and a batch in the same body: the single value was once dropped, and the answer said accepted 1.
        (await ProblemsAsync(client, new { name = "revenue", value = 12.5, routing_key = "user-7", kpis = new[] { new { name = "revenue", value = 1.0, routing_key = "user-8" } } }, "/api/v1/kpis"))
            .ShouldBe(["give one KPI value (name, value, ...) or a batch of them under kpis, not both: name, value, routing_key beside kpis would not be recorded"]);
        (await ProblemsAsync(client, new { kpis = new object[] { new { name = "revenue", value = 1.0, routing_key = "u", kpis = new[] { new { name = "x" } } } } }, "/api/v1/kpis"))
            .ShouldBe(["item 0: kpis: a batch's item is one value, with no kpis of its own"]);

        // An entity that is neither a string nor a number, with a name that is not one: both, not the entity alone.
        (await ProblemsAsync(client, new { kpis = new object[] { new { name = "Revenue", value = 1.0, routing_key = "u", entity = true } } }, "/api/v1/kpis")).ShouldBe([
            "item 0: entity true is not a string or a number",
            "item 0: name 'Revenue' must be 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter",
        ]);

        // As the docs write them, one value and a batch are each taken.
        using var one = await client.PostAsJsonAsync("/api/v1/kpis", new { name = "revenue", value = 12.5, routing_key = "user-7" }, Cancel);
        (await one.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("accepted").GetInt32().ShouldBe(1);
        using var batch = await client.PostAsJsonAsync("/api/v1/kpis", new { kpis = new[] { new { name = "revenue", value = 1.0, routing_key = "user-8" }, new { name = "revenue", value = 2.0, routing_key = "user-9" } } }, Cancel);
        (await batch.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("accepted").GetInt32().ShouldBe(2);
    }

    /// <summary>POSTs the body (an experiment unless another <paramref name="route"/> is given), expects a 400 in problem+json, and returns its problems one by one.</summary>
    private static async Task<List<string>> ProblemsAsync(HttpClient client, object spec, string route = "/api/v1/experiments")
    {
        using var response = await client.PostAsJsonAsync(route, spec, Cancel);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        using var problem = JsonDocument.Parse(body);
        var errors = problem.RootElement.GetProperty("errors").EnumerateArray().Select(error => error.GetString()!).ToList();
        problem.RootElement.GetProperty("detail").GetString().ShouldEndWith(string.Join("; ", errors) + ".");
        return errors;
    }
}
