using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Cli.Commands;
using Ballast.Client;
using Ballast.Training;
using Spectre.Console;

namespace Ballast.Cli.Demo;

/// <summary>Something the demo expected did not happen; the message says what.</summary>
internal sealed class DemoFailedException(string message) : Exception(message);

/// <summary>The accuracy of one model version over one phase of traffic, once every outcome came back.</summary>
internal sealed record PhaseAccuracy(string Phase, string Model, int Requests, double Accuracy);

/// <summary>
/// The whole loop, driven through the public API as a team would drive it: a dataset version, a training pipeline
/// that registers v1 as champion, an endpoint, a monitor with an alert rule (webhook + retraining pipeline), traffic
/// with delayed outcomes, a regime shift, the drift alert, retraining on the endpoint's recent labelled traffic, the
/// gate against the champion, a canary judged on its callers' outcomes, promotion, and recovered accuracy.
/// </summary>
internal sealed class DemoScenario(BallastClient client, IAnsiConsole console, DemoSettings settings, int seed, string workFolder, WebhookReceiver receiver, TimeProvider time)
{
    public const string Endpoint = "loans";
    public const string Model = "loans";
    public const string Dataset = "loans";
    public const string Monitor = "loans-watch";
    public const string Rule = "loans-drift";
    public const string TrainingPipeline = "loans-train";
    public const string RetrainingPipeline = "loans-retrain";
    private const string WebhookSecret = "demo-webhook-secret";

    private readonly long _started = time.GetTimestamp();
    private readonly List<(TimeSpan At, string What)> _events = [];
    private readonly List<PhaseAccuracy> _accuracy = [];
    private readonly HashSet<long> _windowsSeen = [];
    private int _shiftedRowsSent;
    private int _rowsSinceWindow;

    public static string Secret => WebhookSecret;

    public IReadOnlyList<(TimeSpan At, string What)> Events => _events;

    public IReadOnlyList<PhaseAccuracy> Accuracy => _accuracy;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await AddDatasetAsync(cancellationToken).ConfigureAwait(false);
        await PutPipelinesAsync(cancellationToken).ConfigureAwait(false);

        Stage("train v1");
        var first = await client.PostJsonAsync($"/api/v1/pipelines/{TrainingPipeline}/runs", new JsonObject(), cancellationToken).ConfigureAwait(false);
        var trained = await FollowRunAsync(Text(first, "run_id"), null, cancellationToken).ConfigureAwait(false);
        var auc = Output(trained, "evaluate", "auc");
        Event($"v1 trained and registered as champion (holdout AUC {auc})");

        Stage("deploy");
        await client.PostJsonAsync("/api/v1/endpoints", new JsonObject
        {
            ["name"] = Endpoint,
            ["policy"] = "split",
            ["variants"] = new JsonArray(new JsonObject { ["name"] = "stable", ["model"] = $"models:/{Model}/1" }),
        }, cancellationToken).ConfigureAwait(false);
        await WaitForAsync("the endpoint to be ready", async token =>
        {
            using var response = await client.Http.GetAsync($"/v2/models/{Endpoint}/ready", token).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? true : (bool?)null;
        }, cancellationToken).ConfigureAwait(false);
        Event($"endpoint '{Endpoint}' serves models:/{Model}/1");

        await client.PutJsonAsync($"/api/v1/monitors/{Monitor}", MonitorSpec(), cancellationToken).ConfigureAwait(false);
        await client.PutJsonAsync($"/api/v1/alert-rules/{Rule}", AlertRule(), cancellationToken).ConfigureAwait(false);
        Event($"monitor '{Monitor}' (windows of {settings.WindowRows} rows, PSI per feature) and alert '{Rule}' (drift share >= 0.5 for {settings.AlertWindows} window(s) -> webhook + {RetrainingPipeline})");

        var traffic = new DemoTraffic(client, Endpoint, settings.Concurrency);

        Stage("traffic");
        var before = await StreamAsync(traffic, SyntheticLoans.Generate(settings.RowsBeforeShift, seed + 1), cancellationToken).ConfigureAwait(false);
        await traffic.PostOutcomesAsync(cancellationToken).ConfigureAwait(false);
        Record("before the shift", before);
        await ReportWindowsAsync(cancellationToken).ConfigureAwait(false);

        Stage("shift");
        Event("the applicants change: lower incomes, higher debt, more self-employed; defaults now follow loan size against income");
        var shifted = new List<ScoredRow>();
        var rows = SyntheticLoans.Generate(settings.MaxRowsUntilAlert + (20 * settings.RowsAfterRetraining), seed + 2, shift: true);
        string? retrainRun = null;
        while (retrainRun is null)
        {
            if (_shiftedRowsSent >= settings.MaxRowsUntilAlert)
            {
                throw new DemoFailedException($"No drift alert started '{RetrainingPipeline}' after {_shiftedRowsSent} shifted requests.");
            }

            shifted.AddRange(await StreamAsync(traffic, rows.Skip(_shiftedRowsSent).Take(settings.Batch).ToList(), cancellationToken).ConfigureAwait(false));
            await ReportWindowsAsync(cancellationToken).ConfigureAwait(false);
            retrainRun = await LatestRunAsync(RetrainingPipeline, cancellationToken).ConfigureAwait(false);
        }

        var firing = await WaitForAsync("the signed webhook", _ => Task.FromResult(receiver.Received.FirstOrDefault(alert => alert.Status == "firing")), cancellationToken).ConfigureAwait(false);
        Event($"webhook received: {firing.Rule} firing, {firing.Metric} = {firing.Value:0.00} (signature {(firing.SignatureValid ? "valid" : "INVALID")})");
        if (!firing.SignatureValid)
        {
            throw new DemoFailedException("The alert's HMAC signature did not verify.");
        }

        Stage("retrain");
        Event($"pipeline {RetrainingPipeline} run {retrainRun[..8]} started by the alert");
        var canary = new List<ScoredRow>();
        var retrained = await FollowRunAsync(retrainRun, async token =>
        {
            // Production traffic keeps coming while the pipeline trains, and the canary is judged on it.
            canary.AddRange(await StreamAsync(traffic, rows.Skip(_shiftedRowsSent).Take(settings.Batch).ToList(), token, paceByWindows: false).ConfigureAwait(false));
            await Task.Delay(settings.PauseDuringCanary, time, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        await traffic.PostOutcomesAsync(cancellationToken).ConfigureAwait(false);
        Record("after the shift", shifted);
        Record("during the canary", canary);
        var champion = Output(retrained, "evaluate", "champion_metrics");
        Event($"gate {Output(retrained, "gate", "summary")}: holdout AUC {Output(retrained, "evaluate", "auc")} against the champion's "
              + (JsonNode.Parse(champion) is JsonObject metrics && metrics["auc"] is { } championAuc ? championAuc.GetValue<double>().ToString("0.000", CultureInfo.InvariantCulture) : "?"));
        var version = Output(retrained, "register", "version");
        Event($"v{version} promoted: champion -> models:/{Model}/{version}");

        // The new model learned from the new regime: it is the monitor's reference from now on, so drift is measured
        // against what the serving model was trained on, and the alert resolves.
        var reference = Output(retrained, "ingest", "dataset").Split('@');
        var spec = MonitorSpec();
        spec["reference"] = new JsonObject { ["dataset"] = reference[0], ["version"] = long.Parse(reference[1], CultureInfo.InvariantCulture) };
        await client.PutJsonAsync($"/api/v1/monitors/{Monitor}", spec, cancellationToken).ConfigureAwait(false);
        Event($"monitor reference -> {reference[0]}@{reference[1]}: the {Output(retrained, "ingest", "rows")} labelled requests since {WindowStart(retrained)} that v{version} learned from");
        _rowsSinceWindow = 0;

        Stage("recovered");
        var after = new List<ScoredRow>();
        while (!receiver.Received.Any(alert => alert.Status == "resolved"))
        {
            if (after.Count >= settings.RowsAfterRetraining * 4)
            {
                throw new DemoFailedException($"The drift alert did not resolve after {after.Count} requests on the new reference.");
            }

            after.AddRange(await StreamAsync(traffic, rows.Skip(_shiftedRowsSent).Take(settings.Batch).ToList(), cancellationToken).ConfigureAwait(false));
            await Task.Delay(settings.PauseDuringCanary, time, cancellationToken).ConfigureAwait(false);
        }

        var resolved = receiver.Received.First(alert => alert.Status == "resolved");
        Event($"webhook received: {resolved.Rule} resolved, {resolved.Metric} = {resolved.Value:0.00}");
        if (after.Count < settings.RowsAfterRetraining)
        {
            after.AddRange(await StreamAsync(traffic, rows.Skip(_shiftedRowsSent).Take(settings.RowsAfterRetraining - after.Count).ToList(), cancellationToken).ConfigureAwait(false));
        }

        await traffic.PostOutcomesAsync(cancellationToken).ConfigureAwait(false);
        Record("after retraining", after);

        var duringShift = _accuracy.Where(phase => phase.Phase == "after the shift" && phase.Model.EndsWith("/1", StringComparison.Ordinal)).Select(phase => phase.Accuracy).DefaultIfEmpty(double.NaN).First();
        var recovered = _accuracy.Where(phase => phase.Phase == "after retraining" && !phase.Model.EndsWith("/1", StringComparison.Ordinal)).Select(phase => phase.Accuracy).DefaultIfEmpty(double.NaN).First();
        if (!(recovered > duringShift + 0.05))
        {
            throw new DemoFailedException($"Accuracy did not recover: v1 after the shift {duringShift:0.000}, the retrained model {recovered:0.000}.");
        }

        Event($"accuracy recovered: {duringShift:0.000} -> {recovered:0.000}");
    }

    private async Task AddDatasetAsync(CancellationToken cancellationToken)
    {
        Stage("data");
        var applications = SyntheticLoans.Generate(settings.TrainingRows, seed);
        var file = Path.Combine(workFolder, "loans.csv");
        SyntheticLoans.WriteCsv(file, applications);
        var added = await DataCommand.AddVersionAsync(client, Dataset, file, "Loan applications before the shift (seeded synthetic data)", cancellationToken).ConfigureAwait(false);
        var rate = applications.Count(application => application.Defaulted) / (double)applications.Count;
        Event($"dataset {Dataset}@{added.GetProperty("version").GetProperty("version")}: {applications.Count:N0} applications, {rate:P0} defaulted");
    }

    private async Task PutPipelinesAsync(CancellationToken cancellationToken)
    {
        await client.PutJsonAsync($"/api/v1/pipelines/{TrainingPipeline}", Pipeline(TrainingPipeline,
            parameters: """[{"name": "data", "type": "dataset", "default": "loans"}]""",
            ingest: """{"dataset": "${{ params.data }}"}""",
            exclude: """["application_id", "applied_at"]""",
            release: """
                {"name": "promote", "kind": "promote", "with": {"model": "${{ steps.register.outputs.model }}"}}
                """), cancellationToken).ConfigureAwait(false);
        // One retraining at a time: an alert that fires again while a retrain is under way starts nothing (docs/pipelines.md).
        var retraining = Pipeline(RetrainingPipeline,
            parameters: """[{"name": "endpoint", "default": "loans"}, {"name": "window_start", "type": "int", "default": 0}]""",
            ingest: Fill("""{"endpoint": "${{ params.endpoint }}", "from": "${{ params.window_start }}", "label": "defaulted", "register_as": "loans-feedback", "min_rows": <min_rows>}""",
                ("min_rows", settings.WindowRows / 2)),
            exclude: "[]",
            release: Fill("""
                {"name": "rollout", "kind": "rollout", "timeout": "10m", "with": {"model": "${{ steps.register.outputs.model }}", "poll_interval": "1s", "template": {
                  "endpoint": "<endpoint>", "strategy": "canary",
                  "steps": [{"setWeight": 30}, {"pause": "<pause>"}, {"analysis": {}}, {"setWeight": 70}, {"pause": "<pause>"}, {"analysis": {}}],
                  "analysis": {"interval": "<interval>", "count": 1, "failureLimit": 0, "inconclusiveLimit": 3,
                               "minRequests": <min_requests>, "minFeedback": <min_feedback>,
                               "metrics": [{"name": "errors", "failureCondition": "error_rate > 0.05"},
                                           {"name": "accuracy", "failureCondition": "accuracy < stable - 0.02"}]}}}},
                {"name": "promote", "kind": "promote", "needs": ["rollout"], "with": {"model": "${{ steps.register.outputs.model }}"}}
                """, ("endpoint", Endpoint), ("pause", settings.CanaryPause), ("interval", settings.AnalysisInterval),
                ("min_requests", settings.AnalysisMinRequests), ("min_feedback", settings.AnalysisMinFeedback)));
        retraining["max_active_runs"] = 1;
        await client.PutJsonAsync($"/api/v1/pipelines/{RetrainingPipeline}", retraining, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>ingest → split → train → evaluate (with the champion on the same holdout) → gate → register (challenger) → release steps.</summary>
    private static JsonObject Pipeline(string name, string parameters, string ingest, string exclude, string release) => JsonNode.Parse(Fill("""
        {
          "name": "<name>",
          "parameters": <parameters>,
          "steps": [
            {"name": "ingest", "kind": "ingest", "with": <ingest>},
            {"name": "split", "kind": "split", "with": {"data": "${{ steps.ingest.outputs.data }}", "seed": 42, "stratify_by": "defaulted"}},
            {"name": "train", "kind": "train", "with": {"train": "${{ steps.split.outputs.train }}", "validation": "${{ steps.split.outputs.validation }}",
              "label": "defaulted", "task": "binary", "trainer": "fasttree", "seed": 42, "exclude": <exclude>,
              "hyperparameters": {"num_trees": 60, "num_leaves": 12, "min_examples_per_leaf": 10}}},
            {"name": "evaluate", "kind": "evaluate", "with": {"model": "${{ steps.train.outputs.model }}", "data": "${{ steps.split.outputs.holdout }}",
              "label": "defaulted", "task": "binary", "champion": "models:/<model>@champion"}},
            {"name": "gate", "kind": "gate", "with": {"candidate": "${{ steps.evaluate.outputs.metrics }}", "champion": "${{ steps.evaluate.outputs.champion_metrics }}",
              "metrics": [{"metric": "auc", "min": 0.7, "must_improve": true, "min_improvement": 0.005, "min_relative_improvement": 0.01}]}},
            {"name": "register", "kind": "register", "needs": ["gate"], "with": {"name": "<model>", "model": "${{ steps.train.outputs.model }}", "alias": "challenger", "run_id": "${{ steps.train.outputs.run_id }}"}},
            <release>
          ]
        }
        """, ("name", name), ("parameters", parameters), ("ingest", ingest), ("exclude", exclude), ("model", Model), ("release", release)))!.AsObject();

    /// <summary>Puts values in a JSON template's <c>&lt;name&gt;</c> places (the templates hold <c>${{ … }}</c> pipeline references, so no C# interpolation).</summary>
    private static string Fill(string template, params (string Name, object Value)[] values) =>
        values.Aggregate(template, (text, value) => text.Replace($"<{value.Name}>", Convert.ToString(value.Value, CultureInfo.InvariantCulture), StringComparison.Ordinal));

    private JsonObject MonitorSpec() => new()
    {
        ["name"] = Monitor,
        ["endpoint"] = Endpoint,
        ["window"] = new JsonObject { ["rows"] = settings.WindowRows },
        ["reference"] = new JsonObject { ["dataset"] = Dataset, ["version"] = 1 },
        ["drift"] = new JsonObject { ["method"] = "psi", ["threshold"] = 0.2 },
        ["prediction"] = new JsonObject { ["enabled"] = false },
        ["performance"] = new JsonObject { ["task"] = "classification", ["output"] = "PredictedLabel", ["positive_class"] = "true", ["metrics"] = new JsonArray("accuracy", "f1") },
        ["min_rows"] = Math.Min(100, settings.WindowRows),
    };

    private JsonObject AlertRule() => new()
    {
        ["name"] = Rule,
        ["source"] = Monitor,
        ["metric"] = "drift.share",
        ["operator"] = ">=",
        ["threshold"] = 0.5,
        ["for"] = settings.AlertWindows,
        ["severity"] = "warning",
        ["description"] = "Most input features of the loans endpoint drifted from the training data.",
        ["actions"] = new JsonArray(
            new JsonObject { ["type"] = "webhook", ["url"] = receiver.Url.ToString(), ["secret"] = WebhookSecret, ["format"] = "json" },
            new JsonObject { ["type"] = "pipeline", ["pipeline"] = RetrainingPipeline }),
    };

    /// <summary>
    /// Sends rows batch by batch (outcomes follow one batch later), reporting closed monitor windows on the way. With
    /// <paramref name="paceByWindows"/>, once a window's worth of rows is out it waits for the monitor to close that
    /// window, so the story is told window by window however fast the machine scores.
    /// </summary>
    private async Task<List<ScoredRow>> StreamAsync(DemoTraffic traffic, IReadOnlyList<LoanApplication> applications, CancellationToken cancellationToken, bool paceByWindows = true)
    {
        var scored = new List<ScoredRow>(applications.Count);
        foreach (var batch in applications.Chunk(settings.Batch))
        {
            scored.AddRange(await traffic.SendAsync(batch.Select(Row).ToList(), cancellationToken).ConfigureAwait(false));
            if (batch[0].ApplicationId.StartsWith('b'))
            {
                _shiftedRowsSent += batch.Length;
            }

            _rowsSinceWindow += batch.Length;
            await ReportWindowsAsync(cancellationToken).ConfigureAwait(false);
            while (paceByWindows && _rowsSinceWindow >= settings.WindowRows)
            {
                await WaitForAsync("the monitor to close a window", async token => await ReportWindowsAsync(token).ConfigureAwait(false) > 0 ? true : (bool?)null, cancellationToken).ConfigureAwait(false);
            }

            if (settings.PauseBetweenBatches > TimeSpan.Zero)
            {
                await Task.Delay(settings.PauseBetweenBatches, time, cancellationToken).ConfigureAwait(false);
            }
        }

        return scored;
    }

    private static DemoRow Row(LoanApplication application) => new(new Dictionary<string, object>
    {
        ["income"] = application.Income,
        ["debt_ratio"] = application.DebtRatio,
        ["credit_score"] = application.CreditScore,
        ["loan_amount"] = application.LoanAmount,
        ["years_employed"] = application.YearsEmployed,
        ["employment"] = application.Employment,
        ["purpose"] = application.Purpose,
        ["region"] = application.Region,
    }, application.Defaulted);

    /// <summary>Prints each monitor window closed since the last look: rows, drift share, the most drifted features' PSI, accuracy.</summary>
    private async Task<int> ReportWindowsAsync(CancellationToken cancellationToken)
    {
        var closed = 0;
        var windows = await client.GetJsonAsync($"/api/v1/monitors/{Monitor}/windows?limit=20", cancellationToken).ConfigureAwait(false);
        foreach (var window in windows.GetProperty("windows").EnumerateArray().Reverse())
        {
            if (!_windowsSeen.Add(window.GetProperty("id").GetInt64()))
            {
                continue;
            }

            closed++;
            _rowsSinceWindow = Math.Max(0, _rowsSinceWindow - window.GetProperty("rows").GetInt32());

            var metrics = window.GetProperty("metrics");
            var status = Text(window, "status");
            if (status != "ok")
            {
                Event($"window {window.GetProperty("id")}: {status} ({Text(window, "message")})");
                continue;
            }

            var psi = metrics.EnumerateObject()
                .Where(metric => metric.Name.StartsWith("drift.", StringComparison.Ordinal) && metric.Name.Count(c => c == '.') == 1
                                 && metric.Name is not ("drift.share" or "drift.dataset" or "drift.drifted_columns"))
                .OrderByDescending(metric => metric.Value.GetDouble()).Take(3)
                .Select(metric => string.Create(CultureInfo.InvariantCulture, $"{metric.Name[6..]} {metric.Value.GetDouble():0.00}"));
            var share = metrics.TryGetProperty("drift.share", out var value) ? value.GetDouble() : double.NaN;
            var accuracy = metrics.TryGetProperty("performance.accuracy", out var measured) ? measured.GetDouble().ToString("0.000", CultureInfo.InvariantCulture) : "n/a";
            var colour = share >= 0.5 ? "red" : "green";
            Event($"window {window.GetProperty("id")}: {window.GetProperty("rows")} rows, [{colour}]drift share {share:0.00}[/] (PSI {string.Join(", ", psi)}), accuracy {accuracy}", markup: true);
        }

        return closed;
    }

    /// <summary>Follows a pipeline run to its end, printing each step's status change; <paramref name="meanwhile"/> runs between looks.</summary>
    private async Task<JsonElement> FollowRunAsync(string runId, Func<CancellationToken, Task>? meanwhile, CancellationToken cancellationToken)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var rolloutSeen = "";
        var started = time.GetTimestamp();
        while (true)
        {
            var run = await client.GetJsonAsync($"/api/v1/pipeline-runs/{runId}", cancellationToken).ConfigureAwait(false);
            foreach (var step in run.GetProperty("steps").EnumerateArray())
            {
                var name = Text(step, "step");
                var status = Text(step, "status");
                if (seen.GetValueOrDefault(name) != status && status is not "queued")
                {
                    seen[name] = status;
                    Event($"  step {name,-9} {status}{(status == "failed" ? ": " + Text(step, "error") : "")}");
                }
            }

            if (seen.GetValueOrDefault("rollout") == "running")
            {
                var rollout = await CanaryAsync(cancellationToken).ConfigureAwait(false);
                if (rollout is not null && rollout != rolloutSeen)
                {
                    rolloutSeen = rollout;
                    Event($"  canary {rollout}");
                }
            }

            var runStatus = Text(run, "status");
            if (runStatus == "succeeded")
            {
                return run;
            }

            if (runStatus is "failed" or "cancelled")
            {
                throw new DemoFailedException($"Pipeline run {runId[..8]} of {Text(run, "pipeline")} {runStatus}: {Text(run, "error")}");
            }

            if (time.GetElapsedTime(started) > settings.StageTimeout)
            {
                throw new DemoFailedException($"Pipeline run {runId[..8]} of {Text(run, "pipeline")} did not finish within {settings.StageTimeout.TotalSeconds:0} s (it is {runStatus}).");
            }

            if (meanwhile is not null)
            {
                await meanwhile(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The endpoint's rollout in progress, as "weight N% (phase: message)", the message left out when it only repeats
    /// the weight (a setWeight step's "canary weight N%"), or null when there is none.
    /// </summary>
    private async Task<string?> CanaryAsync(CancellationToken cancellationToken)
    {
        var rollouts = await client.GetJsonAsync("/api/v1/rollouts", cancellationToken).ConfigureAwait(false);
        var latest = rollouts.GetProperty("rollouts").EnumerateArray().LastOrDefault(rollout => Text(rollout, "endpoint") == Endpoint);
        if (latest.ValueKind == JsonValueKind.Undefined)
        {
            return null;
        }

        var weight = $"weight {latest.GetProperty("weight")}%";
        var message = Text(latest, "message");
        return message.Length == 0 || message == $"canary {weight}" ? $"{weight} ({Text(latest, "phase")})" : $"{weight} ({Text(latest, "phase")}: {message})";
    }

    private async Task<string?> LatestRunAsync(string pipeline, CancellationToken cancellationToken)
    {
        var runs = await client.GetJsonAsync($"/api/v1/pipelines/{pipeline}/runs?limit=1", cancellationToken).ConfigureAwait(false);
        return runs.GetProperty("runs").EnumerateArray().Select(run => Text(run, "run_id")).FirstOrDefault();
    }

    private async Task<T> WaitForAsync<T>(string what, Func<CancellationToken, Task<T?>> probe, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        while (true)
        {
            if (await probe(cancellationToken).ConfigureAwait(false) is { } found)
            {
                return found;
            }

            if (time.GetElapsedTime(start) > settings.StageTimeout)
            {
                throw new DemoFailedException($"Waited {settings.StageTimeout.TotalSeconds:0} s for {what}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Record(string phase, IEnumerable<ScoredRow> rows)
    {
        foreach (var model in rows.GroupBy(row => row.ModelVersion).OrderBy(group => group.Key, StringComparer.Ordinal))
        {
            var accuracy = model.Count(row => row.Correct) / (double)model.Count();
            _accuracy.Add(new PhaseAccuracy(phase, model.Key, model.Count(), accuracy));
            Event($"{phase}: {model.Key} answered {model.Count():N0} requests, accuracy {accuracy:0.000}");
        }
    }

    private void Stage(string name) => console.MarkupLine($"[bold blue]{Elapsed():mm\\:ss} ── {Markup.Escape(name)}[/]");

    private void Event(string what, bool markup = false)
    {
        var at = Elapsed();
        _events.Add((at, markup ? Markup.Remove(what) : what));
        console.MarkupLine($"[grey]{at:mm\\:ss}[/]    {(markup ? what : Markup.Escape(what))}");
    }

    private TimeSpan Elapsed() => time.GetElapsedTime(_started);

    private static string WindowStart(JsonElement run) =>
        run.GetProperty("parameters").TryGetProperty("window_start", out var start) && start.ValueKind == JsonValueKind.Number
            ? DateTimeOffset.FromUnixTimeMilliseconds(start.GetInt64()).ToString("HH:mm:ss", CultureInfo.InvariantCulture) + " UTC"
            : "the start";

    private static string Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : "";

    private static string Output(JsonElement run, string step, string output)
    {
        var found = run.GetProperty("steps").EnumerateArray().FirstOrDefault(candidate => Text(candidate, "step") == step);
        return found.ValueKind != JsonValueKind.Undefined && found.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Object
               && outputs.TryGetProperty(output, out var value)
            ? value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("0.###", CultureInfo.InvariantCulture) : value.ToString()
            : "?";
    }
}
