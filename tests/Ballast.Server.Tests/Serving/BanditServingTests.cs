using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Serving;

/// <summary>Bandit endpoints on a real Kestrel port: learning from rewarded feedback, and replicas sharing the arms through PostgreSQL.</summary>
public sealed class BanditServingTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_thompson_bandit_moves_its_traffic_to_the_variant_that_earns_rewards()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        using (var created = await client.PutAsJsonAsync("/api/v1/endpoints/iris", Bandit("thompson"), Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
        }

        // No reward yet: the mean reward is null (written as such), not a 0 nobody measured.
        var fresh = (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("status").GetProperty("arms").EnumerateArray()
            .Select(arm => (arm.GetProperty("variant").GetString(), arm.GetProperty("rewarded").GetInt64(), arm.GetProperty("mean_reward").ValueKind)).ToList();
        fresh.ShouldBe([("a", 0L, JsonValueKind.Null), ("b", 0L, JsonValueKind.Null)]);

        var chosen = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var (variant, predictionId) = await InferAsync(client);
            chosen.Add(variant);
            // b always pays, a never: the bandit learns from every reward as it arrives.
            (await client.PostAsJsonAsync("/api/v1/feedback", new { prediction_id = predictionId, reward = variant == "b" ? 1.0 : 0.0 }, Cancel)).EnsureSuccessStatusCode();
        }

        chosen.TakeLast(100).Count(variant => variant == "b").ShouldBeGreaterThan(85, string.Join("", chosen.Select(v => v[0])));
        var arms = (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("status").GetProperty("arms").EnumerateArray()
            .ToDictionary(arm => arm.GetProperty("variant").GetString()!);
        (arms["a"].GetProperty("pulls").GetInt64() + arms["b"].GetProperty("pulls").GetInt64()).ShouldBe(300);
        arms["b"].GetProperty("mean_reward").GetDouble().ShouldBe(1.0);
        arms["a"].GetProperty("mean_reward").GetDouble().ShouldBe(0.0);

        // Forcing a variant (writer role) scores it without teaching the bandit.
        using var forced = new HttpRequestMessage(HttpMethod.Post, "/v2/models/iris/infer") { Content = JsonContent.Create(new { inputs = new[] { ServingHelpers.IrisRow } }) };
        forced.Headers.Add("Ballast-Variant", "a");
        (await client.SendAsync(forced, Cancel)).Headers.GetValues("Ballast-Variant").Single().ShouldBe("a");
    }

    [Fact]
    public async Task Two_replicas_on_one_postgres_share_endpoints_and_bandit_state()
    {
        var (location, drop) = await TestDatabases.CreateAsync(DatabaseEngine.Postgres);
        var artifacts = Directory.CreateTempSubdirectory("ballast-shared-artifacts-").FullName;
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(location.ConnectionString);
            var database = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
            await using var first = await RunningServer.StartAsync(options => options with { Database = database, Artifacts = artifacts });
            await using var second = await RunningServer.StartAsync(options => options with { Database = database, Artifacts = artifacts });
            using var one = first.Client();
            using var two = second.Client();
            await ServingHelpers.RegisterIrisAsync(one, times: 2);
            (await one.PutAsJsonAsync("/api/v1/endpoints/iris", Bandit("epsilon_greedy", 0.0), Cancel)).EnsureSuccessStatusCode();

            // The second replica serves the endpoint the first created, within its refresh interval.
            await WaitAsync(async () => (await two.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel)).StatusCode == HttpStatusCode.OK);

            // Predictions on the second replica, rewards posted to the first: b pays, a does not.
            for (var i = 0; i < 20; i++)
            {
                var (variant, predictionId) = await InferAsync(two);
                (await one.PostAsJsonAsync("/api/v1/feedback", new { prediction_id = predictionId, reward = variant == "b" ? 1.0 : 0.0 }, Cancel)).EnsureSuccessStatusCode();
            }

            // Both replicas read the same arms from the store and, greedy, both now send everything to b.
            await WaitAsync(async () =>
            {
                var arms = (await one.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("status").GetProperty("arms");
                return arms.EnumerateArray().Sum(arm => arm.GetProperty("rewarded").GetInt64()) == 20;
            });
            await WaitAsync(async () =>
            {
                var arms = (await two.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("status").GetProperty("arms");
                return arms.EnumerateArray().Sum(arm => arm.GetProperty("rewarded").GetInt64()) == 20;
            });
            foreach (var client in new[] { one, two })
            {
                for (var i = 0; i < 10; i++)
                {
                    (await InferAsync(client)).Variant.ShouldBe("b");
                }
            }
        }
        finally
        {
            await drop();
            Directory.Delete(artifacts, recursive: true);
        }
    }

    private static object Bandit(string algorithm, double? epsilon = null) => new
    {
        policy = "bandit",
        bandit = new { algorithm, epsilon },
        variants = new[] { new { name = "a", model = "models:/iris/1" }, new { name = "b", model = "models:/iris/2" } },
    };

    private static async Task<(string Variant, string PredictionId)> InferAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (response.Headers.GetValues("Ballast-Variant").Single(), response.Headers.GetValues("Ballast-Prediction-Id").Single());
    }

    /// <summary>Polls until the condition holds (another replica's refresh interval is 5 s).</summary>
    private static async Task WaitAsync(Func<Task<bool>> condition) =>
        (await Eventually.UntilAsync(condition, static done => done, TimeSpan.FromMilliseconds(200))).ShouldBeTrue("the replicas converge");
}
