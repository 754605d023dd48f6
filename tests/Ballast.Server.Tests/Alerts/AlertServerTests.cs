using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Alerts;
using Ballast.Client;
using Ballast.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Ballast.Tests.Serving;

namespace Ballast.Tests.Alerts;

/// <summary>Alert rules on a real server: the API validates, monitors' windows go through the DI-registered observers, the dispatcher delivers signed webhooks over real HTTP.</summary>
public abstract class AlertServerTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    private const string Secret = "hook-secret";

    /// <summary>A webhook receiver mapped on the server itself (real Kestrel): it checks the signature and records what it got.</summary>
    private static Action<WebApplication> Receiver(ConcurrentQueue<(string Body, bool Verified)> received) => app => app.MapPost("/test-hook", async (HttpContext context) =>
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var timestamp = long.Parse(context.Request.Headers[WebhookSignature.TimestampHeader].ToString(), CultureInfo.InvariantCulture);
        received.Enqueue((System.Text.Encoding.UTF8.GetString(body.ToArray()), WebhookSignature.Verify(Secret, timestamp, body.ToArray(), context.Request.Headers[WebhookSignature.SignatureHeader].ToString())));
        return Results.Ok();
    }).AllowAnonymous();

    private static MetricObservation Window(int hour, double share) => new("iris-drift", $"w{hour}", new DateTimeOffset(2026, 12, 1, hour, 0, 0, TimeSpan.Zero),
        new DateTimeOffset(2026, 12, 1, hour + 1, 0, 0, TimeSpan.Zero), new Dictionary<string, double> { ["drift.share"] = share },
        new Dictionary<string, string>(), new Dictionary<string, string>());

    /// <summary>
    /// The monitor rules watch: the iris endpoint's traffic in windows of a million rows (so no window closes while a
    /// test runs, whatever the clock), compared with a span of its own traffic.
    /// </summary>
    private static async Task CreateMonitorAsync(HttpClient client, string name = "iris-drift", object? performance = null)
    {
        if ((await client.GetAsync("/api/v1/endpoints/iris", Cancel)).StatusCode == HttpStatusCode.NotFound)
        {
            await ServingHelpers.RegisterIrisAsync(client);
            using var endpoint = await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel);
            endpoint.IsSuccessStatusCode.ShouldBeTrue(await endpoint.Content.ReadAsStringAsync(Cancel));
        }

        var monitor = new Dictionary<string, object> { ["name"] = name, ["endpoint"] = "iris", ["window"] = new { rows = 1_000_000 }, ["reference"] = new { from = "0", to = "1" } };
        if (performance is not null)
        {
            monitor["performance"] = performance;
        }

        using var created = await client.PutAsJsonAsync($"/api/v1/monitors/{name}", monitor, Cancel);
        created.IsSuccessStatusCode.ShouldBeTrue(await created.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task ObserveAsync(RunningServer server, MetricObservation observation)
    {
        foreach (var observer in server.App.Services.GetServices<IAlertObserver>())
        {
            await observer.ObserveAsync(observation, Cancel);
        }
    }

    [Fact]
    public async Task A_firing_rule_is_listed_and_delivers_a_signed_webhook_and_the_cli_shows_it()
    {
        // Metrics are process-wide and the other engine's test runs alongside: each names its own rule.
        var rule = $"drift-high-{Engine.ToString().ToLowerInvariant()}";
        var received = new ConcurrentQueue<(string Body, bool Verified)>();
        await using var server = await StartServerAsync(routes: Receiver(received));
        using var client = server.Client();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await CreateMonitorAsync(client);
        using (var created = await client.PostAsJsonAsync("/api/v1/alert-rules", new
        {
            name = rule, source = "iris-drift", metric = "drift.share", @operator = ">", threshold = 0.3, @for = 2, severity = "critical",
            labels = new { team = "ml" }, actions = new[] { new { type = "webhook", url = url + "/test-hook", secret = Secret } },
        }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
            var stored = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("rule");
            stored.GetProperty("actions")[0].GetProperty("secret").GetString().ShouldBe("***");
            stored.GetProperty("actions")[0].GetProperty("format").GetString().ShouldBe("json");
        }

        (await client.GetStringAsync($"/api/v1/alert-rules/{rule}", Cancel)).ShouldNotContain(Secret);
        await ObserveAsync(server, Window(1, 0.5));
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts?state=pending", Cancel)).GetProperty("alerts").GetArrayLength().ShouldBe(1);
        await ObserveAsync(server, Window(2, 0.6));
        var firing = (await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts?state=firing&source=iris-drift", Cancel)).GetProperty("alerts").EnumerateArray().Single();
        (firing.GetProperty("rule").GetString(), firing.GetProperty("windows").GetInt32(), firing.GetProperty("value").GetDouble()).ShouldBe((rule, 2, 0.6));

        await Eventually.UntilAsync(() => !received.IsEmpty, TimeSpan.FromMilliseconds(50));

        var (body, verified) = received.ShouldHaveSingleItem();
        verified.ShouldBeTrue();
        JsonDocument.Parse(body).RootElement.GetProperty("status").GetString().ShouldBe("firing");

        var deliveries = await Eventually.UntilAsync(
            () => client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/deliveries?rule={rule}", Cancel), deliveries => deliveries.GetProperty("deliveries").GetArrayLength() > 0, TimeSpan.FromMilliseconds(50));

        var delivery = deliveries.GetProperty("deliveries").EnumerateArray().Single();
        (delivery.GetProperty("outcome").GetString(), delivery.GetProperty("status_code").GetInt32(), delivery.GetProperty("attempt").GetInt32()).ShouldBe(("delivered", 200, 1));
        // The gauges are published once a second, so the tick that delivered may have published the pending state.
        var gauge = $"ballast_alerts{{rule=\"{rule}\",severity=\"critical\",state=\"firing\"}} 1";
        var metrics = await MetricsExposition.UntilAsync(client, gauge, TimeSpan.FromMilliseconds(50));
        metrics.ShouldContain($"ballast_alert_notifications_total{{rule=\"{rule}\",outcome=\"delivered\"}}");
        metrics.ShouldContain(gauge);

        var list = await CliProcess.RunAsync("alerts", "list", "--url", url);
        list.ExitCode.ShouldBe(0, list.ToString());
        list.Output.ShouldContain(rule);
        list.Output.ShouldContain("firing");
        var history = await CliProcess.RunAsync("alerts", "history", rule, "--url", url);
        history.ExitCode.ShouldBe(0, history.ToString());
        history.Output.ShouldContain("pending");
        // inactive → pending → firing: two rows, read a page of one at a time by the client and the CLI alike.
        var transitions = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{rule}/history?limit=1", Cancel));
        (transitions.GetProperty("history").GetArrayLength(), transitions.GetProperty("next_before").GetInt64()).ShouldBe((1, transitions.GetProperty("history")[0].GetProperty("id").GetInt64()));
        var paged = new List<string?>();
        await foreach (var row in new BallastClient(client).GetAllAsync($"/api/v1/alerts/{rule}/history", "history", pageSize: 1, parameters: PageParameters.Before, cancellationToken: Cancel))
        {
            paged.Add(row.GetProperty("to").GetString());
        }

        paged.ShouldBe(["firing", "pending"]);
        var newest = JsonDocument.Parse((await CliProcess.RunAsync("alerts", "history", rule, "--limit", "1", "--json", "--url", url)).Output).RootElement;
        (newest.GetProperty("rule").GetString(), newest.GetProperty("history").EnumerateArray().Single().GetProperty("to").GetString(), newest.TryGetProperty("next_before", out _))
            .ShouldBe((rule, "firing", false));
        var log = await CliProcess.RunAsync("alerts", "deliveries", "--url", url);
        log.Output.ShouldContain("delivered");

        // Silenced: the alert resolves but nobody is told.
        var silence = await CliProcess.RunAsync("alerts", "silence", rule, "--for", "2h", "--comment", "known drift", "--url", url);
        silence.ExitCode.ShouldBe(0, silence.ToString());
        silence.Output.ShouldStartWith("silence ");
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts", Cancel)).GetProperty("alerts")[0].GetProperty("silenced").GetBoolean().ShouldBeTrue();
        await ObserveAsync(server, Window(3, 0.1));
        var events = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{rule}/history", Cancel)).GetProperty("history");
        (events[0].GetProperty("to").GetString(), events[0].GetProperty("silenced").GetBoolean()).ShouldBe(("resolved", true));
        var silences = (await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts/silences", Cancel)).GetProperty("silences");
        var id = silences.EnumerateArray().Single().GetProperty("id").GetString();
        (await client.DeleteAsync($"/api/v1/alerts/silences/{id}", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts/silences", Cancel)).GetProperty("silences").GetArrayLength().ShouldBe(0);
        received.Count.ShouldBe(1);
    }

    [Theory]
    [InlineData("POST", "/api/v1/alert-rules", """{"name":"r","source":"m","metric":"x","operator":"=>","threshold":1,"for":0}""", 400,
        "Invalid alert rule 'r': operator '=>' is not one of > >= < <= == !=; for 0 must be between 1 and 1000 consecutive windows; monitor 'm' does not exist.")]
    [InlineData("POST", "/api/v1/alert-rules", """{"name":"r","source":"m","metric":"x","operator":">","threshold":1,"actions":[{"type":"webhook","url":"not a url"}]}""", 400,
        "Invalid alert rule 'r': actions[0].url 'not a url' is not an absolute http or https URL; monitor 'm' does not exist.")]
    [InlineData("POST", "/api/v1/alert-rules", """{"name":"r","source":"m","metric":"x","operator":">","threshold":1,"treshold":2}""", 400, "treshold")]
    [InlineData("PUT", "/api/v1/alert-rules/other", """{"name":"r","source":"m","metric":"x","operator":">","threshold":1}""", 400,
        "The body names alert rule 'r' but the path names 'other'.")]
    [InlineData("GET", "/api/v1/alert-rules/missing", null, 404, "Alert rule 'missing' does not exist.")]
    [InlineData("DELETE", "/api/v1/alert-rules/missing", null, 404, "Alert rule 'missing' does not exist.")]
    [InlineData("GET", "/api/v1/alerts?state=burning", null, 400, "state 'burning' is not one of inactive, pending, firing, resolved.")]
    [InlineData("GET", "/api/v1/alerts/missing/history", null, 404, "Alert rule 'missing' does not exist.")]
    [InlineData("GET", "/api/v1/alerts/deliveries?limit=0", null, 400, "limit 0 must be between 1 and 1000.")]
    [InlineData("POST", "/api/v1/alerts/silences", """{"duration":"soon"}""", 400,
        "Invalid silence: give rule or matchers (labels such as {\"severity\": \"critical\"}) to say which alerts to silence; comment: say why the alerts are silenced; duration 'soon' is not a duration such as 30m or 2h.")]
    // A silence past the calendar's end once overflowed: a 500.
    [InlineData("POST", "/api/v1/alerts/silences", """{"rule":"r","duration":"99999999h","comment":"x"}""", 400,
        "Invalid silence: duration '99999999h' is longer than 3650d (10 years); delete the rule instead; rule 'r' does not exist; silence an existing rule, or use matchers.")]
    [InlineData("POST", "/api/v1/alerts/silences", """{"rule":"missing","duration":"1h","comment":"x"}""", 404,
        "Alert rule 'missing' does not exist; silence an existing rule, or use matchers.")]
    // With other problems, the missing rule is one of them, not a 404 once they are fixed.
    [InlineData("POST", "/api/v1/alerts/silences", """{"rule":"missing","duration":"-1h"}""", 400,
        "Invalid silence: comment: say why the alerts are silenced; duration '-1h' is not a duration such as 30m or 2h; rule 'missing' does not exist; silence an existing rule, or use matchers.")]
    [InlineData("DELETE", "/api/v1/alerts/silences/nope", null, 404, "Silence 'nope' does not exist or has already expired.")]
    public async Task Bad_requests_get_a_precise_problem_and_change_nothing(string method, string path, string? body, int status, string detail)
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request, Cancel);
        ((int)response.StatusCode).ShouldBe(status, await response.Content.ReadAsStringAsync(Cancel));
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldContain(detail);
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/alert-rules", Cancel)).GetProperty("rules").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task An_AlertRule_manifest_is_applied_listed_round_tripped_and_deleted()
    {
        await using var server = await StartServerAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using (var setup = server.Client())
        {
            await CreateMonitorAsync(setup, "iris-traffic");
        }

        var file = Path.Combine(server.DataDir, "rules.yaml");
        await File.WriteAllTextAsync(file, """
            kind: AlertRule
            name: errors-high
            source: iris-traffic
            metric: errors.rate
            operator: ">"
            threshold: 0.05
            for: 3
            severity: critical
            actions:
              - {type: webhook, url: "https://hooks.example.com/services/T0/B0/x", format: slack, secret: "env:SLACK_SIGNING"}
              - {type: pipeline, pipeline: retrain-iris}
            """, Cancel);
        var applied = await CliProcess.RunAsync("apply", "-f", file, "--url", url);
        applied.ExitCode.ShouldBe(0, applied.ToString());
        applied.Output.ShouldContain("alertrule/errors-high: created");
        var again = await CliProcess.RunAsync("apply", "-f", file, "--url", url);
        again.Output.ShouldContain("alertrule/errors-high: unchanged");

        var yaml = await CliProcess.RunAsync("get", "alert-rules", "errors-high", "-o", "yaml", "--url", url);
        yaml.ExitCode.ShouldBe(0, yaml.ToString());
        yaml.Output.ShouldContain("***");
        yaml.Output.ShouldNotContain("SLACK_SIGNING");
        var exported = Path.Combine(server.DataDir, "exported.yaml");
        await File.WriteAllTextAsync(exported, yaml.Output, Cancel);
        (await CliProcess.RunAsync("apply", "-f", exported, "--url", url)).Output.ShouldContain("unchanged");

        var listed = await CliProcess.RunAsync("get", "alert-rules", "--url", url);
        listed.Output.ShouldContain("errors.rate > 0.05");
        (await CliProcess.RunAsync("delete", "alert-rules", "errors-high", "--url", url)).ExitCode.ShouldBe(0);
        using var client = server.Client();
        (await client.GetAsync("/api/v1/alert-rules/errors-high", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_rule_on_a_monitor_or_metric_that_does_not_exist_is_refused_by_the_api_and_by_apply_and_its_dry_run()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await CreateMonitorAsync(client, performance: new { task = "classification", output = "label" });

        async Task RefusedAsync(HttpResponseMessage response, string detail)
        {
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync(Cancel));
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(detail);
        }

        using (var missing = await client.PostAsJsonAsync("/api/v1/alert-rules", new { name = "ghost", source = "iris-drfit", metric = "drift.share", @operator = ">", threshold = 0.3 }, Cancel))
        {
            await RefusedAsync(missing, "Invalid alert rule 'ghost': monitor 'iris-drfit' does not exist.");
        }

        // With the rule's own problems: every one in the same answer, not the monitor only once the rest is fixed.
        using (var both = await client.PostAsJsonAsync("/api/v1/alert-rules", new { name = "ghost", source = "iris-drfit", metric = "drift.share", @operator = "=>", threshold = 0.3, @for = 0 }, Cancel))
        {
            await RefusedAsync(both, "Invalid alert rule 'ghost': operator '=>' is not one of > >= < <= == !=; for 0 must be between 1 and 1000 consecutive windows; monitor 'iris-drfit' does not exist.");
        }

        using (var metricToo = await client.PostAsJsonAsync("/api/v1/alert-rules", new { name = "auc-low", source = "iris-drift", metric = "performance.roc_auc", @operator = "<", threshold = 0.8, severity = "page" }, Cancel))
        {
            metricToo.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var problem = await metricToo.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()).ShouldBe([
                "severity 'page' is not one of info, warning, critical",
                "monitor 'iris-drift' reports no 'performance.roc_auc': its performance metrics are performance.accuracy, performance.precision, performance.recall, performance.f1, performance.labelled_rows",
            ]);
        }

        using (var metric = await client.PutAsJsonAsync("/api/v1/alert-rules/auc-low", new { source = "iris-drift", metric = "performance.roc_auc", @operator = "<", threshold = 0.8 }, Cancel))
        {
            await RefusedAsync(metric, "Invalid alert rule 'auc-low': monitor 'iris-drift' reports no 'performance.roc_auc': its performance metrics are performance.accuracy, " +
                "performance.precision, performance.recall, performance.f1, performance.labelled_rows.");
        }

        using (var typo = await client.PostAsJsonAsync("/api/v1/alert-rules", new { name = "typo", source = "iris-drift", metric = "drfit.share", @operator = ">", threshold = 0.3 }, Cancel))
        {
            (await typo.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldStartWith("Invalid alert rule 'typo': monitor 'iris-drift' reports no metric 'drfit.share' (a monitor reports rows,");
        }

        (await client.GetFromJsonAsync<JsonElement>("/api/v1/alert-rules", Cancel)).GetProperty("rules").GetArrayLength().ShouldBe(0);

        // A rule the monitor can feed is taken, and so is an event rule (it has no source).
        using (var good = await client.PostAsJsonAsync("/api/v1/alert-rules", new { name = "accuracy-low", source = "iris-drift", metric = "performance.accuracy", @operator = "<", threshold = 0.8 }, Cancel))
        {
            good.StatusCode.ShouldBe(HttpStatusCode.Created, await good.Content.ReadAsStringAsync(Cancel));
        }

        (await client.PostAsJsonAsync("/api/v1/alert-rules", new { name = "aborts", events = new[] { "rollout.*" } }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);

        // apply: the dry run says what the server would refuse, every problem at once; the real run is refused by the server.
        var file = Path.Combine(server.DataDir, "rules.yaml");
        await File.WriteAllTextAsync(file, """
            kind: AlertRule
            name: ghost
            source: nosuch
            metric: drift.share
            operator: ">"
            threshold: 0.3
            ---
            kind: AlertRule
            name: auc-low
            source: iris-drift
            metric: performance.roc_auc
            operator: "<"
            threshold: 0.8
            """, Cancel);
        var dry = await CliProcess.RunAsync("apply", "-f", file, "--dry-run", "--url", url);
        dry.ExitCode.ShouldBe(1, dry.ToString());
        dry.Output.ShouldContain("alertrule/ghost: invalid\n  ! monitor 'nosuch' does not exist\n");
        dry.Output.ShouldContain("alertrule/auc-low: invalid\n  ! monitor 'iris-drift' reports no 'performance.roc_auc': its performance metrics are performance.accuracy,");
        dry.Output.ShouldContain("dry run: 0 to create, 0 to change, 0 unchanged, 2 invalid; nothing was applied");
        var applied = await CliProcess.RunAsync("apply", "-f", file, "--url", url);
        applied.ExitCode.ShouldBe(1, applied.ToString());
        applied.Error.ShouldContain("alertrule/ghost: Invalid alert rule 'ghost': monitor 'nosuch' does not exist.");

        // A monitor earlier in the same file counts, with what it will report once applied.
        var together = Path.Combine(server.DataDir, "together.yaml");
        await File.WriteAllTextAsync(together, """
            kind: Monitor
            name: iris-errors
            endpoint: iris
            window: {rows: 1000000}
            reference: {from: "0", to: "1"}
            kpis: [revenue]
            ---
            kind: AlertRule
            name: revenue-low
            source: iris-errors
            metric: kpi.revenue.mean
            operator: "<"
            threshold: 10
            ---
            kind: AlertRule
            name: churn-low
            source: iris-errors
            metric: kpi.churn.mean
            operator: "<"
            threshold: 10
            """, Cancel);
        var planned = await CliProcess.RunAsync("apply", "-f", together, "--dry-run", "--url", url);
        planned.ExitCode.ShouldBe(1, planned.ToString());
        planned.Output.ShouldContain("alertrule/revenue-low: to create\n");
        planned.Output.ShouldContain("alertrule/churn-low: invalid\n  ! monitor 'iris-errors' reports no 'kpi.churn.mean': its KPI metrics are kpi.NAME.sum, .mean and .count for revenue\n");
        planned.Output.ShouldContain("dry run: 2 to create, 0 to change, 0 unchanged, 1 invalid; nothing was applied");
    }

    [Fact]
    public async Task A_rule_whose_monitor_is_deleted_is_listed_with_an_error_until_a_monitor_of_that_name_exists_again()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await CreateMonitorAsync(client);
        var rule = $"orphan-{Engine.ToString().ToLowerInvariant()}";
        (await client.PostAsJsonAsync("/api/v1/alert-rules", new { name = rule, source = "iris-drift", metric = "drift.share", @operator = ">", threshold = 0.3 }, Cancel))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        await ObserveAsync(server, Window(1, 0.5));
        var alert = (await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts", Cancel)).GetProperty("alerts").EnumerateArray().Single();
        (alert.GetProperty("state").GetString(), alert.GetProperty("health").GetString(), alert.TryGetProperty("error", out _)).ShouldBe(("firing", "ok", false));

        // Deleting the monitor is allowed (as deleting an endpoint that monitors watch is), and the rule says it is not evaluated.
        (await client.DeleteAsync("/api/v1/monitors/iris-drift", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        alert = (await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts?source=iris-drift", Cancel)).GetProperty("alerts").EnumerateArray().Single();
        (alert.GetProperty("rule").GetString(), alert.GetProperty("state").GetString(), alert.GetProperty("health").GetString(), alert.GetProperty("error").GetString())
            .ShouldBe((rule, "firing", "error", "monitor 'iris-drift' does not exist: the rule is not evaluated"));
        var list = await CliProcess.RunAsync("alerts", "list", "--url", url);
        list.ExitCode.ShouldBe(0, list.ToString());
        list.Output.ShouldContain("HEALTH");
        list.Output.ShouldContain("error: monitor 'iris-drift' does not exist: the rule is not evaluated");
        (await client.GetAsync($"/api/v1/alert-rules/{rule}", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await MetricsExposition.UntilAsync(client, $"ballast_alert_rule_error{{rule=\"{rule}\"}} 1", TimeSpan.FromMilliseconds(50));

        // Changing the rule keeps being refused while its monitor is missing; a monitor of that name brings it back.
        (await client.PutAsJsonAsync($"/api/v1/alert-rules/{rule}", new { source = "iris-drift", metric = "drift.share", @operator = ">", threshold = 0.4 }, Cancel))
            .StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        await CreateMonitorAsync(client);
        alert = (await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts", Cancel)).GetProperty("alerts").EnumerateArray().Single();
        alert.GetProperty("health").GetString().ShouldBe("ok");
        await MetricsExposition.UntilAsync(client, $"ballast_alert_rule_error{{rule=\"{rule}\"}} 0", TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task A_silenced_firing_is_sent_when_its_silence_ends_and_only_a_firing_that_was_sent_is_sent_resolved()
    {
        var received = new ConcurrentQueue<(string Body, bool Verified)>();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        await using var server = await StartServerAsync(routes: Receiver(received), time: time);
        using var client = server.Client();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await CreateMonitorAsync(client);
        var engine = Engine.ToString().ToLowerInvariant();
        string loud = $"loud-{engine}", quiet = $"quiet-{engine}";
        foreach (var (rule, threshold) in new[] { (loud, 0.3), (quiet, 0.55) })
        {
            using var created = await client.PostAsJsonAsync("/api/v1/alert-rules", new
            {
                name = rule, source = "iris-drift", metric = "drift.share", @operator = ">", threshold, actions = new[] { new { type = "webhook", url = url + "/test-hook", secret = Secret } },
            }, Cancel);
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
            using var silenced = await client.PostAsJsonAsync("/api/v1/alerts/silences", new { rule, duration = "2h", comment = "retraining" }, Cancel);
            silenced.StatusCode.ShouldBe(HttpStatusCode.Created, await silenced.Content.ReadAsStringAsync(Cancel));
        }

        async Task TickUntilAsync(int count)
        {
            // The dispatcher ticks every second of the server's clock.
            for (var i = 0; i < 400 && received.Count < count; i++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(25, Cancel);
            }

            received.Count.ShouldBe(count);
        }

        // Both fire under their silences; the quiet one resolves before its silence ends, the loud one still fires then.
        await ObserveAsync(server, Window(1, 0.6));
        await ObserveAsync(server, Window(2, 0.5));
        var states = (await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts", Cancel)).GetProperty("alerts").EnumerateArray()
            .ToDictionary(alert => alert.GetProperty("rule").GetString()!, alert => alert.GetProperty("state").GetString());
        (states[loud], states[quiet]).ShouldBe(("firing", "resolved"));
        for (var i = 0; i < 10; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(25, Cancel);
        }

        received.ShouldBeEmpty();

        time.Advance(TimeSpan.FromHours(2));
        await TickUntilAsync(1);
        var (body, verified) = received.ShouldHaveSingleItem();
        verified.ShouldBeTrue();
        var firing = JsonDocument.Parse(body).RootElement;
        (firing.GetProperty("status").GetString(), firing.GetProperty("rule").GetString(), firing.GetProperty("value").GetDouble(), firing.GetProperty("window").GetString())
            .ShouldBe(("firing", loud, 0.5, "w2"));
        var history = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{loud}/history", Cancel)).GetProperty("history");
        (history[0].GetProperty("from").GetString(), history[0].GetProperty("to").GetString(), history[0].GetProperty("notifications").GetInt32()).ShouldBe(("firing", "firing", 1));

        await ObserveAsync(server, Window(3, 0.1));
        await TickUntilAsync(2);
        var resolved = JsonDocument.Parse(received.Last().Body).RootElement;
        (resolved.GetProperty("status").GetString(), resolved.GetProperty("rule").GetString()).ShouldBe(("resolved", loud));
        for (var i = 0; i < 10; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(25, Cancel);
        }

        received.Count.ShouldBe(2, "the quiet rule's receivers never heard it fire, so they hear nothing of it");
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/deliveries?rule={quiet}", Cancel)).GetProperty("deliveries").GetArrayLength().ShouldBe(0);
    }
}

public sealed class SqliteAlertServerTests() : AlertServerTests(DatabaseEngine.Sqlite);

public sealed class PostgresAlertServerTests() : AlertServerTests(DatabaseEngine.Postgres);
