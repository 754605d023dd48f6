using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Ballast.Tests;

/// <summary>
/// Every JSON body is read as strictly as its type: a null element of a list (or value of a map) that the type does not
/// allow, and a field the type does not have, are a 400 naming them on every route, never a 500 nor silently dropped.
/// </summary>
public sealed class RequestBodyTests
{
    private const string Prefix = "The body is not the JSON this route takes: ";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>(method, route, body, the problem the answer names).</summary>
    public static readonly (string Method, string Path, string Body, string Problem)[] NullElements =
    [
        ("POST", "/api/v1/endpoints", """{"name": "e", "variants": [null]}""", "variants[0] must not be null"),
        ("PUT", "/api/v1/endpoints/e", """{"variants": [{"name": "a", "model": "models:/m/1"}], "shadows": [null]}""", "shadows[0] must not be null"),
        ("PUT", "/api/v1/endpoints/e", """{"variants": [{"name": "a", "model": "models:/m/1"}], "policy": "regime", "regime": {"variants": ["a", null], "thresholds": [1]}}""", "regime.variants[1] must not be null"),
        ("POST", "/api/v1/rollouts", """{"name": "r", "endpoint": "e", "model": "models:/m/1", "steps": [null]}""", "steps[0] must not be null"),
        ("POST", "/api/v1/rollouts", """{"name": "r", "endpoint": "e", "model": "models:/m/1", "steps": [{"setWeight": 10}], "analysis": {"metrics": [{"name": "ok", "failureCondition": "error_rate > 0.1"}, null]}}""",
            "analysis.metrics[1] must not be null"),
        ("POST", "/api/v1/rollouts", """{"name": "r", "endpoint": "e", "model": "models:/m/1", "steps": [{"setWeight": 10}], "sla": {"failureConditions": [null]}}""", "sla.failureConditions[0] must not be null"),
        ("POST", "/api/v1/experiments", """{"name": "x", "endpoint": "e", "metric": {"type": "binomial"}, "guardrails": [null]}""", "guardrails[0] must not be null"),
        ("PUT", "/api/v1/experiments/x", """{"endpoint": "e", "metric": {"type": "binomial"}, "secondary_metrics": [{"type": "mean"}, null]}""", "secondary_metrics[1] must not be null"),
        ("POST", "/api/v1/monitors", """{"name": "m", "endpoint": "e", "window": {"duration": "10m"}, "columns": {"include": ["a", null]}}""", "columns.include[1] must not be null"),
        ("PUT", "/api/v1/monitors/m", """{"endpoint": "e", "window": {"duration": "10m"}, "segments": [null], "kpis": [null]}""", "segments[0] must not be null; kpis[0] must not be null"),
        ("PUT", "/api/v1/monitors/m", """{"endpoint": "e", "window": {"duration": "10m"}, "feature_names": {"out": ["a", null]}}""", "feature_names.out[1] must not be null"),
        ("PUT", "/api/v1/monitors/m", """{"endpoint": "e", "window": {"duration": "10m"}, "drift": {"methods": {"a": null}}}""", "drift.methods.a must not be null"),
        ("PUT", "/api/v1/monitors/m", """{"endpoint": "e", "window": {"duration": "10m"}, "performance": {"task": "classification", "metrics": [null]}}""", "performance.metrics[0] must not be null"),
        ("POST", "/api/v1/alert-rules", """{"name": "r", "events": ["rollout.*", null]}""", "events[1] must not be null"),
        ("PUT", "/api/v1/alert-rules/r", """{"source": "m", "metric": "drift_share", "operator": ">", "threshold": 0.5, "labels": {"team": null}, "actions": [null]}""",
            "labels.team must not be null; actions[0] must not be null"),
        ("POST", "/api/v1/alerts/silences", """{"rule": "r", "matchers": {"team": null}}""", "matchers.team must not be null"),
        ("POST", "/api/v1/datasets/d/versions", """{"files": [null]}""", "files[0] must not be null"),
        ("PUT", "/api/v1/pipelines/p", """{"steps": [null]}""", "steps[0] must not be null"),
        ("PUT", "/api/v1/pipelines/p", """{"steps": [{"name": "a", "kind": "echo"}, {"name": "b", "kind": "echo", "needs": ["a", null]}]}""", "steps[1].needs[1] must not be null"),
        ("PUT", "/api/v1/pipelines/p", """{"parameters": [null], "triggers": [null]}""", "parameters[0] must not be null; triggers[0] must not be null"),
        ("PUT", "/api/v1/features/fs", """{"entities": [null], "views": []}""", "entities[0] must not be null"),
        ("PUT", "/api/v1/features/fs", """{"entities": [{"name": "c", "join_key": "id"}], "views": [{"name": "v", "entity": "c", "source": {"dataset": "d"}, "timestamp": "t", "features": [null]}]}""",
            "views[0].features[0] must not be null"),
        ("PUT", "/api/v1/features/fs", """{"entities": [], "views": [], "services": [{"name": "s", "features": ["v:a", null], "on_demand": [null]}]}""",
            "services[0].features[1] must not be null; services[0].on_demand[0] must not be null"),
        ("POST", "/api/v1/features/online", """{"service": "s", "entities": ["1", null]}""", "entities[1] must not be null"),
        ("POST", "/api/v1/features/materialize", """{"views": [null]}""", "views[0] must not be null"),
        ("POST", "/api/v1/kpis", """{"kpis": [{"name": "k", "value": 1}, null]}""", "kpis[1] must not be null"),
    ];

    /// <summary>(method, route, body, the unknown field as the answer names it).</summary>
    public static readonly (string Method, string Path, string Body, string Field)[] UnknownFields =
    [
        ("POST", "/api/v1/endpoints", """{"name": "e", "variants": [{"name": "a", "model": "models:/m/1", "wieght": 100}]}""", "variants[0].wieght"),
        ("PUT", "/api/v1/endpoints/e", """{"variants": [], "falback": "a"}""", "falback"),
        ("POST", "/api/v1/endpoints/e/signals", """{"value": 1, "vlaue": 2}""", "vlaue"),
        ("POST", "/api/v1/rollouts", """{"name": "r", "endpoint": "e", "model": "models:/m/1", "steps": [], "analysis": {"intervall": "10s"}}""", "analysis.intervall"),
        ("POST", "/api/v1/experiments", """{"name": "x", "endpoint": "e", "metric": {"type": "binomial"}, "alfa": 0.1}""", "alfa"),
        ("POST", "/api/v1/experiments/x/conclude", """{"winner": "a", "aply": true}""", "aply"),
        ("POST", "/api/v1/kpis", """{"name": "k", "value": 1, "when": 3}""", "when"),
        ("POST", "/api/v1/monitors", """{"name": "m", "endpoint": "e", "window": {"duration": "10m"}, "drfit": {}}""", "drfit"),
        ("PUT", "/api/v1/monitors/m", """{"endpoint": "e", "window": {"durration": "10m"}}""", "window.durration"),
        ("PUT", "/api/v1/alert-rules/r", """{"source": "m", "metric": "drift_share", "operator": ">", "threshold": 0.5, "four": 2}""", "four"),
        ("POST", "/api/v1/alerts/silences", """{"rule": "r", "duration": "1h", "comment": "c", "by": "me"}""", "by"),
        ("POST", "/api/v1/datasets/d/versions", """{"files": [{"path": "a.csv", "size": 1, "sha256": "00", "md5": "00"}]}""", "files[0].md5"),
        ("PUT", "/api/v1/pipelines/p", """{"steps": [{"name": "a", "kind": "echo", "need": ["b"]}]}""", "steps[0].need"),
        ("POST", "/api/v1/pipelines/p/runs", """{"params": {"n": 1}}""", "params"),
        ("PUT", "/api/v1/features/fs", """{"entities": [{"name": "c", "joinkey": "id"}], "views": []}""", "entities[0].joinkey"),
        ("POST", "/api/v1/features/online", """{"service": "s", "entity": "1"}""", "entity"),
        ("POST", "/api/v1/features/materialize", """{"view": "v"}""", "view"),
        ("PUT", "/api/v1/models/m/versions/1/card/sections/intended-use", """{"txt": "x"}""", "txt"),
        ("POST", "/api/v1/keys", """{"name": "ci", "role": "writer", "expires": "never"}""", "expires"),
    ];

    [Fact]
    public async Task Null_list_elements_are_a_400_naming_them_on_every_route_never_a_500()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var failures = new List<string>();
        foreach (var (method, path, body, problem) in NullElements)
        {
            var (status, detail) = await ProblemAsync(client, method, path, body);
            if (status != HttpStatusCode.BadRequest || detail != $"{Prefix}{problem}.")
            {
                failures.Add($"{method} {path} {body}: {(int)status} {detail}");
            }
        }

        failures.ShouldBeEmpty();
    }

    [Fact]
    public async Task Unknown_fields_are_a_400_naming_them_and_the_known_ones_on_every_route()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var failures = new List<string>();
        foreach (var (method, path, body, field) in UnknownFields)
        {
            var (status, detail) = await ProblemAsync(client, method, path, body);
            if (status != HttpStatusCode.BadRequest || detail?.StartsWith($"{Prefix}{field}: unknown field (known: ", StringComparison.Ordinal) != true || detail.Contains("Ballast.", StringComparison.Ordinal))
            {
                failures.Add($"{method} {path} {body}: {(int)status} {detail}");
            }
        }

        failures.ShouldBeEmpty();

        // The CLI's apply says the same before sending: the same fields, in the same words (the validation's problems of
        // the rest of the body follow).
        (await ProblemAsync(client, "PUT", "/api/v1/monitors/m", """{"endpoint": "e", "window": {"durration": "10m"}, "segments": ["a"]}""")).Detail
            .ShouldStartWith($"{Prefix}window.durration: unknown field (known: duration, rows, grace). Invalid monitor 'm': ");
        (await ProblemAsync(client, "POST", "/api/v1/monitors", """{"name": "m", "endpoint": "e", "window": {"duration": "10m"}, "colums": {}}""")).Detail
            .ShouldStartWith($"{Prefix}colums: unknown field (known: name, endpoint, window, reference, columns, drift, prediction, performance, segments, kpis, min_rows, feature_names, quality, estimated, fairness, multivariate). Invalid monitor 'm': ");
    }

    // System.Text.Json stops at the first unknown field: a body with three answered three times, one field a round.
    [Fact]
    public async Task Every_unknown_field_of_a_body_at_any_depth_is_named_in_one_400()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var body = """
            {"name": "e", "variants": [{"name": "a", "model": "models:/m/1", "weight": 100, "wieght": 100}, {"name": "b", "model": "models:/m/1", "weight": 0, "wieght": 0}],
             "polcy": "split", "falback": "a"}
            """;
        var (status, problem) = await ProblemJsonAsync(client, "POST", "/api/v1/endpoints", body);
        status.ShouldBe(HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()!).ToList();
        errors.Select(error => error[..error.IndexOf(':', StringComparison.Ordinal)]).ShouldBe(["variants[0].wieght", "variants[1].wieght", "polcy", "falback"]);
        problem.GetProperty("detail").GetString().ShouldBe($"{Prefix}{string.Join("; ", errors)}.");

        // Each in the words a body with that one field alone gets (which has no errors list: one problem, one detail).
        var (_, variant) = await ProblemJsonAsync(client, "POST", "/api/v1/endpoints", """{"name": "e", "variants": [{"name": "a", "model": "models:/m/1", "wieght": 100}]}""");
        variant.TryGetProperty("errors", out _).ShouldBeFalse();
        variant.GetProperty("detail").GetString().ShouldBe($"{Prefix}{errors[0]}.");
        var (_, policy) = await ProblemJsonAsync(client, "POST", "/api/v1/endpoints", """{"name": "e", "variants": [{"name": "a", "model": "models:/m/1"}], "polcy": "split"}""");
        policy.GetProperty("detail").GetString().ShouldBe($"{Prefix}{errors[2]}.");

        // Another route and body: a field at the top before one inside an object.
        (status, problem) = await ProblemJsonAsync(client, "PUT", "/api/v1/monitors/m", """{"endpiont": "e", "window": {"durration": "10m", "rows": 5}}""");
        status.ShouldBe(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()).Take(3).ShouldBe(
        [
            "endpiont: unknown field (known: name, endpoint, window, reference, columns, drift, prediction, performance, segments, kpis, min_rows, feature_names, quality, estimated, fairness, multivariate)",
            "window.durration: unknown field (known: duration, rows, grace)",
            "endpoint: name the endpoint whose traffic is monitored", // then the rest of the body's problems, as the monitor's validation finds them
        ]);
    }

    // The contract (a field the type does not have) and the validation (weights that do not sum to 100) were two rounds.
    [Fact]
    public async Task An_endpoint_with_an_unknown_field_and_an_invalid_rest_gets_both_problems_in_one_400()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        const string Body = """{"variants": [{"name": "a", "model": "models:/m/1", "weight": 80, "wieght": 10}, {"name": "b", "model": "models:/m/1", "weight": 10}], "falback": "a"}""";
        const string Known = "(known: name, model, weight, url, timeout_ms, retries)";
        foreach (var (method, path) in new[] { ("PUT", "/api/v1/endpoints/iris"), ("POST", "/api/v1/endpoints/iris/dry-run") })
        {
            var (status, problem) = await ProblemJsonAsync(client, method, path, Body);
            status.ShouldBe(HttpStatusCode.BadRequest, path);
            problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()).ShouldBe(
            [
                $"variants[0].wieght: unknown field {Known}",
                "falback: unknown field (known: name, policy, variants, shadows, sticky, fallback, bandit, regime, ensemble, expectations, features, batching)",
                "variants: weights sum to 90, not 100",
            ]);
            problem.GetProperty("detail").GetString().ShouldStartWith($"{Prefix}variants[0].wieght: unknown field {Known}; falback: unknown field (known: ");
            problem.GetProperty("detail").GetString().ShouldEndWith("batching). Invalid endpoint 'iris': variants: weights sum to 90, not 100.");
        }

        // POST names the endpoint in the body.
        var (_, created) = await ProblemJsonAsync(client, "POST", "/api/v1/endpoints", Body.Replace("{\"variants\"", "{\"name\": \"Bad Name\", \"variants\"", StringComparison.Ordinal));
        created.GetProperty("errors").EnumerateArray().Select(error => error.GetString()).Skip(2).ShouldBe(
            ["name 'Bad Name' must be 1 to 63 lowercase letters, digits or '-', starting with a letter", "variants: weights sum to 90, not 100"]);
    }

    /// <summary>(method, route, body with one unknown field and one problem its validation refuses, the unknown field, that problem).</summary>
    public static readonly (string Method, string Path, string Body, string Field, string Problem)[] UnknownFieldsAndInvalidRests =
    [
        ("POST", "/api/v1/rollouts", """{"name": "r", "endpoint": "e", "model": "models:/m/1", "steps": [{"setWeight": 150}], "analysys": {}}""", "analysys",
            "step 0: setWeight 150 must be between 0 and 100"),
        ("POST", "/api/v1/experiments", """{"name": "x", "endpoint": "e", "metric": {"type": "binomial"}, "alpha": 0.9, "alfa": 0.1}""", "alfa", "alpha 0.9 must be between 0 and 0.5"),
        ("PUT", "/api/v1/experiments/x", """{"endpoint": "e", "metric": {"type": "binomial"}, "alpha": 0.9, "alfa": 0.1}""", "alfa", "alpha 0.9 must be between 0 and 0.5"),
        ("POST", "/api/v1/monitors", """{"name": "m", "endpoint": "e", "window": {"duration": "1s"}, "endpiont": "e"}""", "endpiont",
            "window.duration '1s' is not a duration of at least 10s such as 10m or 1h"),
        ("PUT", "/api/v1/monitors/m", """{"endpoint": "e", "window": {"duration": "1s"}, "endpiont": "e"}""", "endpiont",
            "window.duration '1s' is not a duration of at least 10s such as 10m or 1h"),
        ("POST", "/api/v1/alert-rules", """{"name": "r", "source": "m", "metric": "drift.share", "operator": "~", "threshold": 0.5, "treshold": 1}""", "treshold",
            "operator '~' is not one of "),
        ("PUT", "/api/v1/alert-rules/r", """{"source": "m", "metric": "drift.share", "operator": "~", "threshold": 0.5, "treshold": 1}""", "treshold", "operator '~' is not one of "),
        // The step kinds are the server's (a service of the request), as the PUT checks them.
        ("PUT", "/api/v1/pipelines/p", """{"steps": [{"name": "a", "kind": "nope"}], "stpes": []}""", "stpes", "kind 'nope' is not known; known kinds: "),
        ("PUT", "/api/v1/features/fs", """{"entities": [], "views": [{"name": "v"}], "entites": []}""", "entites", "entities: declare at least one entity (name and join_key)"),
        // A body naming another object than its path: said with the unknown field, as the route says it first.
        ("PUT", "/api/v1/endpoints/e", """{"name": "f", "variants": [{"name": "a", "model": "models:/m/1"}], "falback": "a"}""", "falback", "The body names endpoint 'f' but the path names 'e'"),
        ("PUT", "/api/v1/experiments/x", """{"name": "y", "endpoint": "e", "metric": {"type": "binomial"}, "alfa": 0.1}""", "alfa", "The body names experiment 'y' but the path names 'x'"),
        ("PUT", "/api/v1/monitors/m", """{"name": "n", "endpoint": "e", "window": {"duration": "10m"}, "endpiont": "e"}""", "endpiont", "The body names monitor 'n' but the path names 'm'"),
        ("PUT", "/api/v1/alert-rules/r", """{"name": "s", "source": "m", "metric": "drift.share", "operator": ">", "threshold": 0.5, "treshold": 1}""", "treshold",
            "The body names alert rule 's' but the path names 'r'"),
        ("PUT", "/api/v1/pipelines/p", """{"name": "q", "steps": [{"name": "a", "kind": "fail"}], "stpes": []}""", "stpes", "The body names pipeline 'q' but the path names 'p'"),
        ("PUT", "/api/v1/features/fs", """{"name": "gs", "entities": [], "entites": []}""", "entites", "The body names feature set 'gs' but the path names 'fs'"),
    ];

    // Only endpoints had their validation in the 400 for an unknown field; every route that takes a spec has it now.
    [Fact]
    public async Task Every_spec_with_an_unknown_field_and_an_invalid_rest_gets_both_problems_in_one_400()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        foreach (var (method, path, body, field, expected) in UnknownFieldsAndInvalidRests)
        {
            var (status, problem) = await ProblemJsonAsync(client, method, path, body);
            status.ShouldBe(HttpStatusCode.BadRequest, path);
            var errors = problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()!).ToList();
            errors[0].ShouldStartWith($"{field}: unknown field (known: ", customMessage: path);
            errors.Skip(1).ShouldContain(error => error.Contains(expected, StringComparison.Ordinal), $"{path}: {string.Join(" | ", errors)}");
            problem.GetProperty("detail").GetString().ShouldStartWith($"{Prefix}{field}: unknown field (known: ", customMessage: path);
            problem.GetProperty("detail").GetString()!.ShouldContain(expected, customMessage: path);
        }
    }

    // AlertRuleSpec.IsEventRule is computed from events: the serializer read it and dropped it, and listed it as a field.
    [Fact]
    public async Task A_field_the_server_computes_is_refused_as_unknown_and_is_not_listed_as_known()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        const string Known = "(known: name, source, metric, operator, threshold, for, severity, labels, annotations, description, actions, events)";
        var (status, detail) = await ProblemAsync(client, "PUT", "/api/v1/alert-rules/r", """{"events": ["rollout.*"], "is_event_rule": false}""");
        status.ShouldBe(HttpStatusCode.BadRequest);
        detail.ShouldBe($"{Prefix}is_event_rule: unknown field {Known}.");
        (await ProblemAsync(client, "PUT", "/api/v1/alert-rules/r", """{"events": ["rollout.*"], "evnts": ["x"]}""")).Detail.ShouldBe($"{Prefix}evnts: unknown field {Known}.");

        // A GET still shows it; a body without it is taken.
        using (var created = await client.PutAsync("/api/v1/alert-rules/r", new StringContent("""{"events": ["rollout.*"]}""", Encoding.UTF8, "application/json"), Cancel))
        {
            created.IsSuccessStatusCode.ShouldBeTrue(await created.Content.ReadAsStringAsync(Cancel));
        }

        (await client.GetFromJsonAsync<JsonElement>("/api/v1/alert-rules/r", Cancel)).GetProperty("rule").GetProperty("is_event_rule").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public async Task Nulls_the_type_allows_and_bodies_without_unknown_fields_still_reach_the_route()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();

        // A pipeline run's parameter values are declared nullable (JSON values): the body is read, and the route's own check answers.
        var (status, detail) = await ProblemAsync(client, "POST", "/api/v1/pipelines/p/runs", """{"parameters": {"n": null}, "no_cache": true}""");
        status.ShouldBe(HttpStatusCode.BadRequest);
        detail.ShouldBe("parameters.n: a parameter value is text, a number or a boolean, not null.");
        (status, detail) = await ProblemAsync(client, "POST", "/api/v1/pipelines/p/runs", """{"parameters": {"n": 1}, "no_cache": true}""");
        status.ShouldBe(HttpStatusCode.NotFound);
        detail.ShouldBe("Pipeline 'p' does not exist.");

        // A monitor with every field known and no null elements is checked by the monitor's own validation.
        (status, detail) = await ProblemAsync(client, "PUT", "/api/v1/monitors/m", """{"endpoint": "nowhere", "window": {"duration": "10m"}, "columns": {"include": ["a"]}, "feature_names": {"out": ["x"]}}""");
        status.ShouldBe(HttpStatusCode.BadRequest);
        detail.ShouldStartWith("Invalid monitor 'm': ");
    }

    [Fact]
    public async Task Null_feedback_items_are_a_400_naming_them()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var (status, detail) = await ProblemAsync(client, "POST", "/api/v1/feedback", """{"feedback": [{"prediction_id": "p1", "outcome": 1}, null]}""");
        status.ShouldBe(HttpStatusCode.BadRequest);
        detail.ShouldBe("feedback[1] must be an object {\"prediction_id\", \"outcome\"?, \"reward\"?}, not null.");
    }

    [Fact]
    public async Task Null_list_elements_on_mlflow_routes_are_invalid_parameter_values_naming_them()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var experiment = (await MlflowAsync(client, "experiments/create", """{"name": "nulls"}""")).Body.GetProperty("experiment_id").GetString();
        var run = (await MlflowAsync(client, "runs/create", $$"""{"experiment_id": "{{experiment}}"}""")).Body.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        (string Route, string Body, string Message)[] cases =
        [
            ("experiments/create", """{"name": "x", "tags": [null]}""", "Invalid value null for parameter 'tags[0]' supplied: expected a {\"key\", \"value\"} object, got null."),
            ("experiments/create", """{"name": "x", "tags": [{"value": "v"}]}""", "Missing value for required parameter 'tags[0].key'."),
            ("experiments/search", """{"order_by": ["name", null]}""", "Invalid value null for parameter 'order_by[1]' supplied: expected a string, got null."),
            ("runs/search", $$"""{"experiment_ids": ["{{experiment}}", null]}""", "Invalid value null for parameter 'experiment_ids[1]' supplied: expected a string, got null."),
            ("runs/create", $$"""{"experiment_id": "{{experiment}}", "tags": [{"key": "a", "value": "b"}, null]}""", "Invalid value null for parameter 'tags[1]' supplied: expected a {\"key\", \"value\"} object, got null."),
            ("runs/log-batch", $$"""{"run_id": "{{run}}", "metrics": [null]}""", "Invalid value null for parameter 'metrics[0]' supplied: expected a JSON object, got null."),
            ("runs/log-batch", $$"""{"run_id": "{{run}}", "params": [{"key": "a", "value": "1"}, null]}""", "Invalid value null for parameter 'params[1]' supplied: expected a JSON object, got null."),
            ("runs/log-inputs", $$"""{"run_id": "{{run}}", "datasets": [null]}""", "Invalid value null for parameter 'datasets[0]' supplied: expected a JSON object, got null."),
            ("registered-models/create", """{"name": "m", "tags": [null]}""", "Invalid value null for parameter 'tags[0]' supplied: expected a {\"key\", \"value\"} object, got null."),
            ("registered-models/get-latest-versions", """{"name": "m", "stages": [null]}""", "Invalid value null for parameter 'stages[0]' supplied: expected a string, got null."),
            ("model-versions/create", """{"name": "m", "source": "runs:/x/model", "tags": [null]}""", "Invalid value null for parameter 'tags[0]' supplied: expected a {\"key\", \"value\"} object, got null."),
        ];
        var failures = new List<string>();
        foreach (var (route, body, message) in cases)
        {
            var (status, answer) = await MlflowAsync(client, route, body);
            if (status != HttpStatusCode.BadRequest || answer.GetProperty("error_code").GetString() != "INVALID_PARAMETER_VALUE"
                || answer.GetProperty("message").GetString() != $"{message} See the API docs for more information about request parameters.")
            {
                failures.Add($"{route} {body}: {(int)status} {answer}");
            }
        }

        failures.ShouldBeEmpty();
    }

    [Fact]
    public async Task Null_tensors_and_dimensions_in_inference_requests_are_a_400_in_the_protocols_format()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await Serving.ServingHelpers.RegisterIrisAsync(client);
        (await client.PostAsJsonAsync("/api/v1/endpoints", new { name = "iris", variants = new[] { new { name = "a", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();
        (string Body, string Error)[] cases =
        [
            ("""{"inputs": [null]}""", "inputs[0] must be a tensor {\"name\", \"shape\", \"datatype\", \"data\"}, not null"),
            ("""{"inputs": [{"name": "float_input", "datatype": "FP32", "shape": [null, 4], "data": [1, 2, 3, 4]}]}""", "input 'float_input': 'shape' must be a list of non-negative integers"),
        ];
        foreach (var (body, error) in cases)
        {
            using var response = await client.PostAsync("/v2/models/iris/infer", new StringContent(body, Encoding.UTF8, "application/json"), Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
            (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe(error);
        }
    }

    [Fact]
    public async Task A_dataset_file_without_a_path_is_a_400_naming_it()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var sha = new string('a', 64);
        foreach (var body in new[] { $$"""{"files": [{"path": null, "size": 1, "sha256": "{{sha}}"}]}""", $$"""{"files": [{"path": "a.csv", "size": 1, "sha256": "{{sha}}"}, {"size": 1, "sha256": "{{sha}}"}]}""" })
        {
            var (status, detail) = await ProblemAsync(client, "POST", "/api/v1/datasets/d/versions", body);
            status.ShouldBe(HttpStatusCode.BadRequest, body);
            detail.ShouldBe($"files[{(body.Contains("a.csv", StringComparison.Ordinal) ? 1 : 0)}] has no 'path': give each file's path within the version, its size and its sha256.");
        }
    }

    /// <summary>(method, route, body, the problem the answer names: place, the type the field takes, what was sent).</summary>
    public static readonly (string Method, string Path, string Body, string Problem)[] WrongTypes =
    [
        ("PUT", "/api/v1/endpoints/e", """{"variants": [{"name": "a", "model": "models:/m/1", "weight": "ten"}]}""", "variants[0].weight: expected an integer, got a string (\"ten\")"),
        ("PUT", "/api/v1/endpoints/e", """{"variants": {}}""", "variants: expected an array, got an object"),
        ("POST", "/api/v1/endpoints", """{"name": "e", "variants": [{"name": "a", "model": "models:/m/1", "weight": 10.5}]}""", "variants[0].weight: expected an integer, got a number (10.5)"),
        ("POST", "/api/v1/endpoints", """{"name": "e", "variants": [{"name": "a", "model": "models:/m/1", "weight": 3000000000}]}""",
            "variants[0].weight: expected an integer from -2147483648 to 2147483647, got a number (3000000000)"),
        ("PUT", "/api/v1/endpoints/e", """{"variants": [{"name": 7, "model": "models:/m/1"}]}""", "variants[0].name: expected a string, got a number (7)"),
        ("PUT", "/api/v1/endpoints/e", """{"variants": ["a"]}""", "variants[0]: expected an object, got a string (\"a\")"),
        ("POST", "/api/v1/endpoints", """[{"name": "e"}]""", "the body: expected an object, got an array"),
        ("POST", "/api/v1/rollouts", """{"name": "r", "endpoint": "e", "model": "models:/m/1", "steps": [{"setWeight": 10}, {"setWeight": "half"}]}""",
            "steps[1].setWeight: expected an integer, got a string (\"half\")"),
        ("POST", "/api/v1/rollouts", """{"name": "r", "endpoint": "e", "model": "models:/m/1", "steps": {"setWeight": 10}}""", "steps: expected an array, got an object"),
        ("POST", "/api/v1/experiments", """{"name": "x", "endpoint": "e", "metric": {"type": "binomial"}, "alpha": true}""", "alpha: expected a number, got a boolean (true)"),
        ("POST", "/api/v1/experiments", """{"name": "x", "endpoint": "e", "metric": "binomial"}""", "metric: expected an object, got a string (\"binomial\")"),
    ];

    [Fact]
    public async Task A_value_of_the_wrong_type_is_a_400_naming_its_place_the_type_its_field_takes_and_what_was_sent()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var failures = new List<string>();
        foreach (var (method, path, body, problem) in WrongTypes)
        {
            var (status, detail) = await ProblemAsync(client, method, path, body);
            if (status != HttpStatusCode.BadRequest || detail != $"{Prefix}{problem}.")
            {
                failures.Add($"{method} {path} {body}: {(int)status} {detail}");
            }
        }

        failures.ShouldBeEmpty();
    }

    // ASP.NET Core reports a body of null as a body not provided: the answer said "The body is empty".
    [Fact]
    public async Task A_body_of_null_is_named_null_not_empty()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        foreach (var (method, path) in new[] { ("POST", "/api/v1/endpoints"), ("PUT", "/api/v1/endpoints/e"), ("POST", "/api/v1/rollouts"), ("POST", "/api/v1/experiments") })
        {
            var (status, detail) = await ProblemAsync(client, method, path, " null ");
            status.ShouldBe(HttpStatusCode.BadRequest, path);
            detail.ShouldBe("The body is null; expected a JSON object, the JSON this route takes.", path);
        }

        var (emptyStatus, empty) = await ProblemAsync(client, "POST", "/api/v1/endpoints", "");
        emptyStatus.ShouldBe(HttpStatusCode.BadRequest);
        empty.ShouldBe("The body is empty; send the JSON this route takes.");
    }

    private static async Task<(HttpStatusCode Status, string? Detail)> ProblemAsync(HttpClient client, string method, string path, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, Cancel);
        if (response.StatusCode == HttpStatusCode.InternalServerError || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Cancel));
        }

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        return (response.StatusCode, problem.TryGetProperty("detail", out var detail) ? detail.GetString() : problem.GetRawText());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Problem)> ProblemJsonAsync(HttpClient client, string method, string path, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, Cancel);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", await response.Content.ReadAsStringAsync(Cancel));
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(Cancel));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> MlflowAsync(HttpClient client, string route, string body)
    {
        using var response = await client.PostAsync($"/api/2.0/mlflow/{route}", new StringContent(body, Encoding.UTF8, "application/json"), Cancel);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(Cancel));
    }
}
