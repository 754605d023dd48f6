using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Cli;
using Ballast.Cli.Manifests;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests;

/// <summary>
/// <c>ballast apply -f</c>, <c>get</c> and <c>delete</c>: declarative endpoints against a real server, the CLI run
/// in-process through <see cref="BallastCli.RunAsync"/> (and as a process where standard input matters).
/// </summary>
public sealed class ApplyTests
{
    private const string IrisManifest = """
        kind: Endpoint          # the kind is case-insensitive
        name: iris
        policy: split
        variants:
          - {name: a, model: "models:/iris/1", weight: 90}
          - {name: b, model: "models:/iris@challenger", weight: 10}
        shadows: [{name: c, model: "models:/iris/2", percent: 100}]
        sticky: {header: Ballast-Routing-Key}
        fallback: a
        """;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Apply_creates_then_is_unchanged_then_a_dry_run_shows_the_diff_and_apply_changes_the_revision()
    {
        await using var server = await IrisServerAsync();
        using var client = server.Client();
        var file = Write("iris.yaml", IrisManifest);

        var created = await RunAsync("apply", "-f", file, "--url", Url(server));
        created.Code.ShouldBe(0, created.Error);
        created.Output.ShouldContain("endpoint/iris: to create\n");
        created.Output.ShouldContain("  + variants[a].model: models:/iris/1\n");
        created.Output.ShouldContain("  + variants[b].weight: 10\n");
        created.Output.ShouldContain("  + sticky.header: Ballast-Routing-Key\n");
        created.Output.ShouldEndWith("endpoint/iris: created (revision 1)\n");
        (await EndpointAsync(client, "iris")).GetProperty("status").GetProperty("ready").GetBoolean().ShouldBeTrue();

        var again = await RunAsync("apply", "-f", file, "--url", Url(server));
        again.Code.ShouldBe(0, again.Error);
        again.Output.ShouldBe("endpoint/iris: unchanged (revision 1)\n");
        (await EndpointAsync(client, "iris")).GetProperty("revision").GetInt64().ShouldBe(1);

        File.WriteAllText(file, IrisManifest.Replace("weight: 90", "weight: 80", StringComparison.Ordinal).Replace("weight: 10", "weight: 20", StringComparison.Ordinal));
        var preview = await RunAsync("apply", "-f", file, "--dry-run", "--url", Url(server));
        preview.Code.ShouldBe(0, preview.Error);
        preview.Output.ShouldBe("""
            endpoint/iris: to change
              ~ variants[a].weight: 90 -> 80
              ~ variants[b].weight: 10 -> 20
            dry run: 0 to create, 1 to change, 0 unchanged; nothing was applied

            """.ReplaceLineEndings("\n"));
        var untouched = await EndpointAsync(client, "iris");
        untouched.GetProperty("revision").GetInt64().ShouldBe(1);
        untouched.GetProperty("variants")[0].GetProperty("weight").GetInt32().ShouldBe(90);

        var changed = await RunAsync("apply", "-f", file, "--url", Url(server));
        changed.Code.ShouldBe(0, changed.Error);
        changed.Output.ShouldContain("  ~ variants[a].weight: 90 -> 80\n");
        changed.Output.ShouldEndWith("endpoint/iris: changed (revision 2)\n");
        var stored = await EndpointAsync(client, "iris");
        stored.GetProperty("revision").GetInt64().ShouldBe(2);
        stored.GetProperty("variants")[0].GetProperty("weight").GetInt32().ShouldBe(80);
    }

    [Fact]
    public async Task Get_prints_a_table_and_yaml_or_json_manifests_that_apply_takes_back_unchanged()
    {
        await using var server = await IrisServerAsync();
        var bandit = """
            kind: Endpoint
            metadata: {name: arms}
            spec:
              policy: bandit
              bandit: {algorithm: epsilon_greedy, epsilon: 0.05}
              variants: [{name: a, model: "models:/iris/1"}, {name: b, model: "models:/iris/2"}]
            """;
        (await RunAsync("apply", "-f", Write("both.yaml", IrisManifest + "\n---\n" + bandit), "--url", Url(server))).Code.ShouldBe(0);

        var table = await RunAsync("get", "endpoints", "--url", Url(server));
        table.Code.ShouldBe(0, table.Error);
        var rows = table.Output.TrimEnd().Split('\n');
        rows[0].ShouldStartWith("NAME  POLICY  READY  SERVING");
        rows.Length.ShouldBe(3, table.Output);
        rows[1].ShouldStartWith("arms  bandit  true");
        rows[2].ShouldStartWith("iris  split   true   a=iris/1 b=iris/2 c=iris/2");
        (await RunAsync("get", "endpoint", "iris", "--url", Url(server))).Output.Split('\n').Length.ShouldBe(3);
        foreach (var spelling in new[] { "alertrule", "alertrules", "alert-rule", "alert-rules", "AlertRules" })
        {
            (await RunAsync("get", spelling, "--url", Url(server))).Code.ShouldBe(0, spelling);
        }


        var yaml = await RunAsync("get", "endpoints", "-o", "yaml", "--url", Url(server));
        yaml.Code.ShouldBe(0, yaml.Error);
        yaml.Output.ShouldStartWith("kind: Endpoint\nname: arms\npolicy: bandit\n");
        yaml.Output.ShouldContain("\n---\nkind: Endpoint\nname: iris\n");
        yaml.Output.ShouldContain("  - name: b\n    model: models:/iris@challenger\n    weight: 10\n");
        yaml.Output.ShouldContain("  epsilon: 0.05\n");
        yaml.Output.ShouldNotContain("revision");
        var back = await RunAsync("apply", "-f", Write("all.yaml", yaml.Output), "--url", Url(server));
        back.Code.ShouldBe(0, back.Error);
        back.Output.ShouldBe("endpoint/arms: unchanged (revision 1)\nendpoint/iris: unchanged (revision 1)\n");

        var json = await RunAsync("get", "endpoints", "iris", "-o", "json", "--url", Url(server));
        json.Code.ShouldBe(0, json.Error);
        var manifest = JsonNode.Parse(json.Output)!.AsObject();
        manifest["kind"]!.GetValue<string>().ShouldBe("Endpoint");
        manifest["variants"]![0]!["weight"]!.GetValue<int>().ShouldBe(90);
        (await RunAsync("apply", "-f", Write("iris.json", json.Output), "--url", Url(server))).Output.ShouldBe("endpoint/iris: unchanged (revision 1)\n");
        var list = await RunAsync("get", "endpoints", "-o", "json", "--url", Url(server));
        JsonNode.Parse(list.Output)!.AsArray().Count.ShouldBe(2);
    }

    [Fact]
    public async Task Regime_and_ensemble_settings_go_through_apply_and_come_back_from_get()
    {
        await using var server = await IrisServerAsync();
        var manifests = """
            kind: Endpoint
            name: moody
            policy: regime
            variants: [{name: a, model: "models:/iris/1"}, {name: b, model: "models:/iris/2"}]
            regime:
              signal: volatility
              thresholds: [0.5]
              variants: [a, b]
              hysteresis: 0.05
              rules: [{input: float_input, index: 2, op: ">=", value: 6, variant: b}]
            ---
            kind: Endpoint
            name: together
            policy: ensemble
            ensemble: {combine: vote}
            variants: [{name: a, model: "models:/iris/1", weight: 2}, {name: b, model: "models:/iris/2"}]
            """;
        var applied = await RunAsync("apply", "-f", Write("both.yaml", manifests), "--url", Url(server));
        applied.Code.ShouldBe(0, applied.Error);
        applied.Output.ShouldContain("  + regime.signal: volatility\n");
        applied.Output.ShouldEndWith("endpoint/moody: created (revision 1)\nendpoint/together: created (revision 1)\n");

        var yaml = await RunAsync("get", "endpoints", "-o", "yaml", "--url", Url(server));
        yaml.Output.ShouldContain("regime:\n  signal: volatility\n");
        yaml.Output.ShouldContain("ensemble:\n  combine: vote\n");
        var back = await RunAsync("apply", "-f", Write("all.yaml", yaml.Output), "--url", Url(server));
        back.Output.ShouldEndWith("endpoint/moody: unchanged (revision 1)\nendpoint/together: unchanged (revision 1)\n");
    }

    [Fact]
    public async Task A_dry_run_of_an_experiment_checks_its_endpoint_and_control_as_the_server_will()
    {
        await using var server = await IrisServerAsync();
        (await RunAsync("apply", "-f", Write("iris.yaml", IrisManifest), "--url", Url(server))).Code.ShouldBe(0);
        var file = Write("experiments.yaml", """
            kind: Experiment
            name: lost
            endpoint: iirs
            ---
            kind: Experiment
            name: uncontrolled
            endpoint: iris
            control: c
            ---
            kind: Endpoint
            name: solo
            variants: [{name: a, model: "models:/iris/1"}]
            ---
            kind: Experiment
            name: alone
            endpoint: solo
            """);

        // Once "3 to create" and exit 0, then the apply itself was refused by the server.
        var dry = await RunAsync("apply", "-f", file, "--dry-run", "--url", Url(server));

        dry.Code.ShouldBe(1, dry.Output);
        dry.Output.ShouldContain("experiment/lost: invalid\n  ! endpoint 'iirs' does not exist\n");
        dry.Output.ShouldContain("experiment/uncontrolled: invalid\n  ! control 'c' is not a variant of endpoint 'iris' (a, b)\n");
        dry.Output.ShouldContain("experiment/alone: invalid\n  ! endpoint 'solo' has one variant; an experiment compares two or more\n");
        (await RunAsync("get", "experiments", "--url", Url(server))).Output.ShouldNotContain("lost");
    }

    [Fact]
    public async Task An_experiment_is_applied_idempotently_listed_and_deleted()
    {
        await using var server = await IrisServerAsync();
        (await RunAsync("apply", "-f", Write("iris.yaml", IrisManifest), "--url", Url(server))).Code.ShouldBe(0);
        var experiment = Write("ab.yaml", """
            kind: Experiment
            name: iris-ab
            endpoint: iris
            metric: {name: conversion, type: binomial}
            engine: frequentist
            """);
        var created = await RunAsync("apply", "-f", experiment, "--url", Url(server));
        created.Code.ShouldBe(0, created.Error);
        created.Output.ShouldContain("  + metric.source: outcome\n", Case.Sensitive);
        created.Output.ShouldContain("experiment/iris-ab: created (started ", Case.Sensitive);
        (await RunAsync("apply", "-f", experiment, "--url", Url(server))).Output.ShouldStartWith("experiment/iris-ab: unchanged (started ");

        var table = await RunAsync("get", "experiments", "--url", Url(server));
        table.Output.Split('\n')[1].ShouldStartWith("iris-ab  iris      conversion (binomial)  frequentist");
        var yaml = await RunAsync("get", "experiment", "iris-ab", "-o", "yaml", "--url", Url(server));
        yaml.Output.ShouldStartWith("kind: Experiment\nname: iris-ab\nendpoint: iris\nmetric:\n  name: conversion\n");
        (await RunAsync("apply", "-f", Write("back.yaml", yaml.Output), "--url", Url(server))).Output.ShouldStartWith("experiment/iris-ab: unchanged (started ");
        (await RunAsync("delete", "experiment", "iris-ab", "--url", Url(server))).Code.ShouldBe(0);
    }

    // A GET shows is_event_rule (computed from events); the server refuses it in a body, so the manifest leaves it out.
    [Fact]
    public async Task An_event_rule_round_trips_through_get_yaml_without_its_computed_field()
    {
        await using var server = await RunningServer.StartAsync();
        var rule = Write("rule.yaml", "kind: AlertRule\nname: rollouts\nevents: [\"rollout.*\"]\n");
        var created = await RunAsync("apply", "-f", rule, "--url", Url(server));
        created.Code.ShouldBe(0, created.Error);

        var yaml = await RunAsync("get", "alert-rule", "rollouts", "-o", "yaml", "--url", Url(server));
        yaml.Code.ShouldBe(0, yaml.Error);
        yaml.Output.ShouldNotContain("is_event_rule");
        var back = await RunAsync("apply", "-f", Write("back.yaml", yaml.Output), "--url", Url(server));
        back.Code.ShouldBe(0, back.Error);
        back.Output.ShouldContain("alertrule/rollouts: unchanged");

        var computed = await RunAsync("apply", "-f", Write("computed.yaml", yaml.Output + "is_event_rule: true\n"), "--url", Url(server));
        computed.Code.ShouldNotBe(0);
        computed.Error.ShouldContain("is_event_rule: unknown field (known: name, source, metric, operator, threshold, for, severity, labels, annotations, description, actions, events)");
    }

    [Fact]
    public async Task Delete_endpoint_removes_it_and_a_missing_one_fails_with_exit_code_1()
    {
        await using var server = await IrisServerAsync();
        using var client = server.Client();
        (await RunAsync("apply", "-f", Write("iris.yaml", IrisManifest), "--url", Url(server))).Code.ShouldBe(0);

        var deleted = await RunAsync("delete", "endpoint", "iris", "--url", Url(server));
        deleted.Code.ShouldBe(0, deleted.Error);
        deleted.Output.ShouldBe("endpoint/iris: deleted\n");
        (await client.GetAsync("/api/v1/endpoints/iris", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var missing = await RunAsync("delete", "endpoints", "iris", "--url", Url(server));
        missing.Code.ShouldBe(1);
        missing.Error.ShouldBe("error: Endpoint 'iris' does not exist.\n");

        var unknown = await RunAsync("delete", "rollout", "r", "--url", Url(server));
        unknown.Code.ShouldBe(2);
        unknown.Error.ShouldContain("'rollout' is not a kind of object; known: endpoints, experiments, monitors");
    }

    [Fact]
    public async Task A_yaml_syntax_error_is_a_usage_error_naming_its_line_before_anything_is_sent()
    {
        var file = Write("broken.yaml", "kind: Endpoint\nname: iris\nvariants:\n  - name: a\n   model: models:/iris/1\n");

        // Nothing listens on port 1: the file is refused before the server is asked anything.
        var result = await RunAsync("apply", "-f", file, "--url", "http://127.0.0.1:1");

        result.Code.ShouldBe(2, result.Output);
        result.Error.ShouldStartWith($"error: {file}: YAML syntax error at line 5, column 4: ");
        result.Error.Trim().Split('\n').Length.ShouldBe(1);

        var json = await RunAsync("apply", "-f", Write("broken.json", "{\"kind\": \"Endpoint\",\n \"name\": }"), "--url", "http://127.0.0.1:1");
        json.Code.ShouldBe(2);
        json.Error.ShouldContain("JSON error at line 2");

        // JSON as strict as the API reads a body (which refuses both): no trailing comma, no comment; YAML has comments.
        var trailingFile = Write("trailing.json", "{\"kind\": \"Endpoint\", \"name\": \"iris\",\n \"variants\": [],\n}");
        var trailing = await RunAsync("apply", "-f", trailingFile, "--url", "http://127.0.0.1:1");
        trailing.Code.ShouldBe(2, trailing.Output);
        trailing.Error.ShouldBe($"error: {trailingFile}: JSON error at line 3, column 1: a comma before a closing '}}' or ']' (a trailing comma) is not JSON; remove it\n");
        var comment = await RunAsync("apply", "-f", Write("comment.json", "{\"kind\": \"Endpoint\", // the iris model\n \"name\": \"iris\", \"variants\": []}"), "--url", "http://127.0.0.1:1");
        comment.Code.ShouldBe(2, comment.Output);
        comment.Error.ShouldContain("JSON error at line 1, column 22: a comment is not JSON; remove it, or write the manifest in YAML");

        var absent = await RunAsync("apply", "-f", Path.Combine(Path.GetTempPath(), "no-such-manifest.yaml"), "--url", "http://127.0.0.1:1");
        absent.Code.ShouldBe(2);
        absent.Error.ShouldStartWith("error: Cannot read ");
    }

    [Fact]
    public async Task Unknown_kinds_missing_names_and_unknown_fields_are_usage_errors_listed_at_once()
    {
        var file = Write("kinds.yaml", """
            kind: Rollout
            name: r
            ---
            name: no-kind
            ---
            kind: endpoint
            variants: [{name: a, model: "models:/iris/1", wieght: 100}]
            falback: a
            """);

        var result = await RunAsync("apply", "-f", file, "--url", "http://127.0.0.1:1");

        result.Code.ShouldBe(2, result.Output);
        result.Error.Trim().Split('\n').Length.ShouldBe(1);
        result.Error.ShouldContain("document 1 (line 1): kind 'Rollout' is not known (known kinds: Endpoint, Experiment, Monitor, AlertRule, Pipeline, FeatureSet)");
        result.Error.ShouldContain("document 2 (line 4): kind: is missing (known kinds: Endpoint, Experiment, Monitor, AlertRule, Pipeline, FeatureSet)");
        result.Error.ShouldContain("document 3 (line 6): name: is missing");
        result.Error.ShouldContain("variants[0].wieght: unknown field (known: name, model, weight, url, timeout_ms, retries)");
        result.Error.ShouldContain("falback: unknown field (known: name, policy, variants, shadows, sticky, fallback, bandit, regime, ensemble, expectations, features, batching)");

        // A misspelt field and a problem of the rest, in one answer: fixing the first does not reveal the second.
        var both = Write("both.yaml", """
            kind: Endpoint
            name: iris
            variants: [{name: a, model: "models:/iris/1", weight: 80, wieght: 10}, {name: b, model: "models:/iris/1", weight: 10}]
            """);
        var together = await RunAsync("apply", "-f", both, "--url", "http://127.0.0.1:1");
        together.Code.ShouldBe(2, together.Output);
        together.Error.ShouldBe($"error: {both}: variants[0].wieght: unknown field (known: name, model, weight, url, timeout_ms, retries); "
            + $"{both}: Invalid endpoint 'iris': variants: weights sum to 90, not 100\n");

        var get = await RunAsync("get", "rollouts", "--url", "http://127.0.0.1:1");
        get.Code.ShouldBe(2);
        get.Error.ShouldContain("known: endpoints, experiments, monitors");
    }

    [Fact]
    public async Task A_server_refusal_is_one_line_with_its_message_and_exit_code_1()
    {
        await using var server = await IrisServerAsync();
        using var client = server.Client();
        var file = Write("sum.yaml", IrisManifest.Replace("weight: 90", "weight: 80", StringComparison.Ordinal));

        var refused = await RunAsync("apply", "-f", file, "--url", Url(server));

        refused.Code.ShouldBe(1, refused.Output);
        refused.Error.ShouldBe("error: endpoint/iris: Invalid endpoint 'iris': variants: weights sum to 90, not 100.\n");
        (await client.GetAsync("/api/v1/endpoints/iris", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // A dry run predicts the refusal with the same rules, and still changes nothing.
        var dry = await RunAsync("apply", "-f", file, "--dry-run", "--url", Url(server));
        dry.Code.ShouldBe(1);
        dry.Output.ShouldContain("endpoint/iris: invalid\n  ! Invalid endpoint 'iris': variants: weights sum to 90, not 100.\n");
        dry.Error.ShouldContain("would be refused");

        // What a manifest names must exist, or come earlier in the file: a dry run checks that too, every name at once.
        var watch = Write("watch.yaml", """
            kind: Monitor
            name: watch
            endpoint: nosuch
            window: {duration: 1h}
            reference: {dataset: nothing}
            """);
        var missing = await RunAsync("apply", "-f", watch, "--dry-run", "--url", Url(server));
        missing.Code.ShouldBe(1);
        missing.Output.ShouldContain("monitor/watch: invalid\n  ! endpoint 'nosuch' does not exist; dataset 'nothing' does not exist\n");
        var together = Write("together.yaml", IrisManifest + "\n---\n" + """
            kind: Monitor
            name: watch
            endpoint: iris
            window: {duration: 1h}
            reference: {from: "0", to: "1"}
            """);
        var planned = await RunAsync("apply", "-f", together, "--dry-run", "--url", Url(server));
        planned.Code.ShouldBe(0, planned.Error);
        planned.Output.ShouldContain("dry run: 2 to create, 0 to change, 0 unchanged; nothing was applied");
    }

    // Each refusal ends with a full stop: joined as they were, the error line read "… not 100.; endpoint/b: …".
    [Fact]
    public async Task A_dry_run_joins_the_refusals_of_several_objects_cleanly()
    {
        await using var server = await RunningServer.StartAsync();
        var file = Write("two.yaml", """
            kind: Endpoint
            name: a
            variants: [{name: x, model: "models:/iris/1", weight: 80}, {name: y, model: "models:/iris/1", weight: 10}]
            ---
            kind: Endpoint
            name: b
            variants: [{name: x, model: "models:/iris/1", weight: 50}, {name: y, model: "models:/iris/1", weight: 10}]
            """);

        var dry = await RunAsync("apply", "-f", file, "--dry-run", "--url", Url(server));

        dry.Code.ShouldBe(1, dry.Output);
        dry.Error.ShouldBe("error: endpoint/a: would be refused: Invalid endpoint 'a': variants: weights sum to 90, not 100; "
            + "endpoint/b: would be refused: Invalid endpoint 'b': variants: weights sum to 60, not 100.\n");
        dry.Error.ShouldNotContain(".;");

        // A value of the wrong type in the server's words, not "could not be converted to System.Int32".
        var typed = await RunAsync("apply", "-f", Write("typed.yaml", "kind: Endpoint\nname: c\nvariants: [{name: x, model: \"models:/iris/1\", weight: ten}]\n"), "--dry-run", "--url", Url(server));
        typed.Code.ShouldBe(1, typed.Output);
        typed.Output.ShouldContain("endpoint/c: invalid\n  ! variants[0].weight: expected an integer, got a string (\"ten\")\n");
    }

    /// <summary>
    /// What only the server knows, a model's inputs: a dry run asks the server to check the endpoint as a PUT would
    /// apply it (models loaded, expectations' columns against their inputs, a version that does not exist), storing
    /// nothing; the client alone would have called both manifests fine.
    /// </summary>
    [Fact]
    public async Task A_dry_run_has_the_server_load_the_models_and_says_why_an_endpoint_would_not_be_served()
    {
        await using var server = await IrisServerAsync();
        using var client = server.Client();
        var file = Write("checked.yaml", """
            kind: Endpoint
            name: checked
            variants: [{name: a, model: "models:/iris/1"}]
            expectations: {suite: {columns: {"float_input[0]": {min: 0}, petal_width: {max: 3}}}}
            """);

        var dry = await RunAsync("apply", "-f", file, "--dry-run", "--url", Url(server));
        dry.Code.ShouldBe(1, dry.Output);
        dry.Output.ShouldContain("endpoint/checked: invalid\n  ! would not be served: expectations name 'petal_width', which iris/1 (variant 'a') does not take as an input;");
        (await client.GetAsync("/api/v1/endpoints/checked", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        File.WriteAllText(file, File.ReadAllText(file).Replace(", petal_width: {max: 3}", "", StringComparison.Ordinal));
        var fine = await RunAsync("apply", "-f", file, "--dry-run", "--url", Url(server));
        fine.Code.ShouldBe(0, fine.Output + fine.Error);
        fine.Output.ShouldContain("dry run: 1 to create, 0 to change, 0 unchanged; nothing was applied");

        // The route itself: the spec as it would be stored and what each variant would serve; a version that does not exist.
        using var answer = await client.PostAsJsonAsync("/api/v1/endpoints/checked/dry-run", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/7", weight = 50 } } }, Cancel);
        answer.StatusCode.ShouldBe(HttpStatusCode.OK, await answer.Content.ReadAsStringAsync(Cancel));
        var checkedSpec = await answer.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        checkedSpec.GetProperty("ready").GetBoolean().ShouldBeFalse();
        checkedSpec.GetProperty("problem").GetString()!.ShouldContain("iris");
        using var ready = await client.PostAsJsonAsync("/api/v1/endpoints/checked/dry-run", new { variants = new[] { new { name = "a", model = "models:/iris/1" } } }, Cancel);
        var readySpec = await ready.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        (readySpec.GetProperty("ready").GetBoolean(), readySpec.GetProperty("spec").GetProperty("policy").GetString(), readySpec.GetProperty("spec").GetProperty("variants")[0].GetProperty("weight").GetInt32())
            .ShouldBe((true, "split", 100));
        readySpec.GetProperty("serving")[0].GetProperty("model").GetString().ShouldBe("iris/1");
        using var invalid = await client.PostAsJsonAsync("/api/v1/endpoints/checked/dry-run", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 40 } } }, Cancel);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await client.GetAsync("/api/v1/endpoints/checked", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    /// <summary>
    /// A dry run loads the models it checks and releases them right after, but never one an endpoint serves: a version
    /// only checked is not kept loaded (nor one of a check that fails); a served one stays loaded and serving, also when
    /// an apply routing to the checked version runs beside the check.
    /// </summary>
    [Fact]
    public async Task A_dry_run_releases_the_models_it_loaded_but_never_one_an_endpoint_serves()
    {
        await using var server = await IrisServerAsync();
        using var client = server.Client();
        var cache = server.App.Services.GetRequiredService<Ballast.Serving.ModelCache>();
        async Task<bool> DryRunAsync(string endpoint, params string[] models)
        {
            using var answer = await client.PostAsJsonAsync($"/api/v1/endpoints/{endpoint}/dry-run",
                new { variants = models.Select((model, i) => new { name = $"v{i}", model, weight = 100 / models.Length }) }, Cancel);
            answer.StatusCode.ShouldBe(HttpStatusCode.OK, await answer.Content.ReadAsStringAsync(Cancel));
            return (await answer.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("ready").GetBoolean();
        }

        async Task ServesAsync(string endpoint)
        {
            using var scored = await client.PostAsJsonAsync($"/v2/models/{endpoint}/infer", new { inputs = new[] { Serving.ServingHelpers.IrisRow } }, Cancel);
            scored.StatusCode.ShouldBe(HttpStatusCode.OK, await scored.Content.ReadAsStringAsync(Cancel));
        }

        // No endpoint routes to iris/2: checked, then released; also when the check fails on another variant.
        (await DryRunAsync("checked", "models:/iris/2")).ShouldBeTrue();
        cache.IsLoaded("iris", 2).ShouldBeFalse("a dry run releases the versions it loaded");
        (await DryRunAsync("checked", "models:/iris/2", "models:/iris/7")).ShouldBeFalse();
        cache.IsLoaded("iris", 2).ShouldBeFalse("a failed dry run releases them too");

        // iris/1 is served: a dry run of it leaves it loaded and serving.
        (await client.PutAsJsonAsync("/api/v1/endpoints/served", new { variants = new[] { new { name = "a", model = "models:/iris/1" } } }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        cache.IsLoaded("iris", 1).ShouldBeTrue();
        (await DryRunAsync("other", "models:/iris/1", "models:/iris/2")).ShouldBeTrue();
        (cache.IsLoaded("iris", 1), cache.IsLoaded("iris", 2)).ShouldBe((true, false));
        await ServesAsync("served");

        // An apply of iris/2 beside a dry run of it: whichever takes the model first, the endpoint serves it after both.
        for (var round = 0; round < 3; round++)
        {
            var dry = DryRunAsync("checked", "models:/iris/2");
            var put = client.PutAsJsonAsync("/api/v1/endpoints/beside", new { variants = new[] { new { name = "a", model = "models:/iris/2" } } }, Cancel);
            (await dry).ShouldBeTrue();
            using (var applied = await put)
            {
                applied.StatusCode.ShouldBe(HttpStatusCode.OK, await applied.Content.ReadAsStringAsync(Cancel));
            }

            cache.IsLoaded("iris", 2).ShouldBeTrue($"round {round}: an endpoint routes to it");
            await ServesAsync("beside");
            (await client.DeleteAsync("/api/v1/endpoints/beside", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
            cache.IsLoaded("iris", 2).ShouldBeFalse($"round {round}: no endpoint routes to it any more");
        }

        cache.IsLoaded("iris", 1).ShouldBeTrue();
        await ServesAsync("served");
    }

    [Fact]
    public async Task Several_documents_are_applied_in_order_from_yaml_a_json_array_and_standard_input()
    {
        await using var server = await IrisServerAsync();
        using var client = server.Client();
        var two = Write("two.yaml", """
            kind: Endpoint
            name: first
            variants: [{name: main, model: "models:/iris/1"}]
            ---
            kind: ENDPOINT
            name: second
            variants: [{name: main, model: "models:/iris/2"}]
            """);

        var result = await RunAsync("apply", "-f", two, "--url", Url(server));

        result.Code.ShouldBe(0, result.Error);
        result.Output.ShouldContain("endpoint/first: to create\n  + policy: split\n  + variants[main].model: models:/iris/1\n  + variants[main].weight: 100\n");
        result.Output.ShouldEndWith("endpoint/first: created (revision 1)\nendpoint/second: created (revision 1)\n");
        (await EndpointAsync(client, "second")).GetProperty("variants")[0].GetProperty("model").GetString().ShouldBe("models:/iris/2");

        var array = Write("two.json", """
            [{"kind": "Endpoint", "name": "first", "variants": [{"name": "main", "model": "models:/iris/1", "weight": 100}]},
             {"kind": "Endpoint", "metadata": {"name": "second"}, "spec": {"variants": [{"name": "main", "model": "models:/iris/1"}]}}]
            """);
        var json = await RunAsync("apply", "-f", array, "--url", Url(server));
        json.Code.ShouldBe(0, json.Error);
        json.Output.ShouldBe("endpoint/second: to change\n  ~ variants[main].model: models:/iris/2 -> models:/iris/1\nendpoint/first: unchanged (revision 1)\nendpoint/second: changed (revision 2)\n");

        // As a process, as users pipe one command into another: `ballast get … -o yaml | ballast apply -f -`.
        var info = CliProcess.StartInfo(["apply", "-f", "-", "--url", Url(server)]);
        info.RedirectStandardInput = true;
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync(IrisManifest);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(Cancel);
        var error = await process.StandardError.ReadToEndAsync(Cancel);
        await process.WaitForExitAsync(Cancel);
        process.ExitCode.ShouldBe(0, error);
        output.ShouldEndWith("endpoint/iris: created (revision 1)\n");
    }

    [Fact]
    public void Yaml_scalars_become_json_numbers_booleans_and_null_only_when_unquoted_and_they_look_like_them()
    {
        var documents = ManifestYaml.Read("""
            int: 90
            quoted: "90"
            single: '90'
            real: 0.05
            exponent: 1e3
            hex: 0x1F
            plus: +12
            yes_is_text: yes
            truth: true
            quoted_truth: "true"
            nothing: ~
            empty:
            text: !!str 100
            infinity: .inf
            base: &base {model: "models:/iris/1", weight: 10}
            merged: {<<: *base, weight: 20}
            copy: *base
            ---
            - second
            """);

        documents.Count.ShouldBe(2);
        documents[1].Line.ShouldBe(19);
        var json = documents[0].Content!.ToJsonString();
        json.ShouldBe("""
            {"int":90,"quoted":"90","single":"90","real":0.05,"exponent":1e3,"hex":31,"plus":12,"yes_is_text":"yes","truth":true,"quoted_truth":"true","nothing":null,"empty":null,"text":"100","infinity":"Infinity","base":{"model":"models:/iris/1","weight":10},"merged":{"weight":20,"model":"models:/iris/1"},"copy":{"model":"models:/iris/1","weight":10}}
            """);
    }

    [Fact]
    public void Yaml_written_for_a_manifest_reads_back_as_the_same_json()
    {
        var manifest = JsonNode.Parse("""
            {"kind": "Endpoint", "name": "iris", "numbers": ["100", 100, "1e3", "0x1F", "true", true, "null", null, "yes", "off", ""],
             "text": ["models:/iris@champion", "a: b", "- x", "#hash", "two\nlines", " padded ", "[1]", "{}", "ünïcode"],
             "empty": [], "nested": {"epsilon": 0.05, "list": [{"name": "a", "weight": 90}]}}
            """)!;

        var yaml = ManifestYaml.Write([manifest, manifest]);
        var documents = ManifestYaml.Read(yaml);

        documents.Count.ShouldBe(2);
        documents.ShouldAllBe(document => JsonNode.DeepEquals(document.Content, manifest), yaml);
        yaml.ShouldStartWith("kind: Endpoint\nname: iris\n");
    }

    private static async Task<RunningServer> IrisServerAsync()
    {
        var server = await RunningServer.StartAsync();
        using var client = server.Client();
        for (var i = 0; i < 2; i++)
        {
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("logreg_iris.onnx"), Cancel));
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", "logreg_iris.onnx");
            using var response = await client.PostAsync("/api/v1/models/iris/versions", form, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
        }

        var alias = await RunAsync("models", "alias", "set", "iris", "challenger", "2", "--url", Url(server));
        alias.Code.ShouldBe(0, alias.Error);
        return server;
    }

    private static async Task<JsonElement> EndpointAsync(HttpClient client, string name) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/v1/endpoints/{name}", Cancel);

    private static string Url(RunningServer server) => server.BaseAddress.ToString().TrimEnd('/');

    private static string Write(string name, string content)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ballast-apply-").FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BallastCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
