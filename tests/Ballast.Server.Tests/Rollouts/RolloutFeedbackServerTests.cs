using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Alerts;
using Ballast.Metadata;
using Ballast.Tests.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Ballast.Tests.Rollouts;

/// <summary>
/// A canary judged on feedback, on a real server with real requests: callers post outcomes for the predictions they
/// got; the canary's are wrong, stable's right, so the analysis aborts it and the abort reaches an event rule's webhook.
/// </summary>
public abstract class RolloutFeedbackServerTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    private const string Secret = "rollout-hook-secret";

    [Fact]
    public async Task A_canary_less_accurate_than_stable_is_aborted_and_the_abort_is_delivered_to_the_event_webhook()
    {
        var received = new ConcurrentQueue<(string Body, bool Verified)>();
        await using var server = await StartServerAsync(routes: app => app.MapPost("/test-hook", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var timestamp = long.Parse(context.Request.Headers[WebhookSignature.TimestampHeader].ToString(), CultureInfo.InvariantCulture);
            received.Enqueue((System.Text.Encoding.UTF8.GetString(body.ToArray()), WebhookSignature.Verify(Secret, timestamp, body.ToArray(), context.Request.Headers[WebhookSignature.SignatureHeader].ToString())));
            return Results.Ok();
        }).AllowAnonymous());
        using var client = server.Client();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/v1/alert-rules", new { name = "rollout-events", events = new[] { "rollout.*" }, actions = new[] { new { type = "webhook", url = url + "/test-hook", secret = Secret } } }, Cancel))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        using (var started = await client.PostAsJsonAsync("/api/v1/rollouts", new
        {
            name = "iris-v2", endpoint = "iris", model = "models:/iris/2", strategy = "canary",
            steps = new object[] { new { setWeight = 50 }, new { analysis = new { } } },
            analysis = new
            {
                interval = "3s", count = 1, minRequests = 5, minFeedback = 5,
                metrics = new[] { new { name = "accuracy", failureCondition = "accuracy < stable - 0.02" } },
            },
        }, Cancel))
        {
            started.StatusCode.ShouldBe(HttpStatusCode.Created, await started.Content.ReadAsStringAsync(Cancel));
        }

        JsonElement status = default;
        for (var i = 0; i < 400; i++)
        {
            using (var scored = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel))
            {
                var answer = await scored.Content.ReadFromJsonAsync<JsonElement>(Cancel);
                var variant = answer.GetProperty("parameters").GetProperty("variant").GetString();
                var predicted = answer.GetProperty("outputs")[0].GetProperty("data")[0];
                // The caller learns the truth later: stable's predictions were right, the canary's wrong.
                using var feedback = await client.PostAsJsonAsync("/api/v1/feedback", new
                {
                    prediction_id = answer.GetProperty("parameters").GetProperty("prediction_id").GetString(),
                    outcome = variant == "canary" ? JsonSerializer.SerializeToElement("not-a-class") : predicted,
                }, Cancel);
                feedback.EnsureSuccessStatusCode();
            }

            await Task.Delay(25, Cancel);
            status = await client.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2", Cancel);
            if (status.GetProperty("phase").GetString() is "Succeeded" or "Aborted" or "Paused")
            {
                break;
            }
        }

        (status.GetProperty("phase").GetString(), status.GetProperty("message").GetString()).ShouldBe(("Aborted", "analysis failed: accuracy: accuracy < stable - 0.02 (value 0)"), status.ToString());
        var endpoint = await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel);
        endpoint.GetProperty("variants").GetArrayLength().ShouldBe(1, "all traffic is back on stable");

        await Eventually.UntilAsync(() => !received.IsEmpty, TimeSpan.FromMilliseconds(50));

        var (body, verified) = received.ShouldHaveSingleItem();
        verified.ShouldBeTrue();
        var notice = JsonDocument.Parse(body).RootElement;
        (notice.GetProperty("status").GetString(), notice.GetProperty("event").GetString(), notice.GetProperty("rule").GetString()).ShouldBe(("event", "rollout.aborted", "rollout-events"));
        var labels = notice.GetProperty("labels");
        (labels.GetProperty("rollout").GetString(), labels.GetProperty("value_accuracy").GetString(), labels.GetProperty("value_stable_accuracy").GetString()).ShouldBe(("iris-v2", "0", "1"));

        var history = (await client.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2/history", Cancel)).GetProperty("history").EnumerateArray().Last();
        history.GetProperty("values").GetProperty("accuracy").GetDouble().ShouldBe(0);
    }
}

public sealed class SqliteRolloutFeedbackServerTests() : RolloutFeedbackServerTests(DatabaseEngine.Sqlite);

public sealed class PostgresRolloutFeedbackServerTests() : RolloutFeedbackServerTests(DatabaseEngine.Postgres);
