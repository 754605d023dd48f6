using System.Globalization;
using Ballast.Experiments;
using Ballast.Rollouts;

namespace Ballast.Server.Dashboard;

/// <summary>
/// Rollouts and A/B experiments: the lists; a rollout's steps (done, current, to come), its canary weight over time,
/// every transition with its reason, the current analysis's measurements, and promote / pause / resume / abort for
/// writers; an experiment's results with confidence intervals, the SRM check and the decision.
/// </summary>
internal static class RolloutPage
{
    public static readonly IReadOnlyList<string> Commands = ["promote", "pause", "resume", "abort"];

    public static async Task<DashboardPage> ListAsync(DashboardContext context)
    {
        var rollouts = await context.Service<RolloutController>().ListAsync(context.Cancel).ConfigureAwait(false);
        var body = new Html().Tag("h2", "Rollouts");
        body.Table(["rollout", "endpoint", "model", "strategy", "phase", "step", "canary weight", "status"], rollouts.OrderByDescending(r => r.State.History.Count > 0 ? r.State.History[^1].At : 0).Select(r => new[]
        {
            Html.LinkCell(DashboardRoutes.Rollout(r.Spec.Name), r.Spec.Name), Html.LinkCell(DashboardRoutes.Endpoint(r.Spec.Endpoint!), r.Spec.Endpoint), Html.Cell(r.Spec.Model),
            Html.Cell(r.Spec.Strategy ?? RolloutValidation.CanaryStrategy), Html.MarkupCell(PhaseBadge(r.State.Phase)),
            Html.Cell($"{Math.Min(r.State.Step + 1, r.Spec.Steps?.Count ?? 0)} of {r.Spec.Steps?.Count ?? 0}"), Html.Cell(r.State.Weight, "0"), Html.Cell(r.State.Message),
        }), "rollouts", "No rollouts yet: start one with `ballast rollout start -f rollout.yaml`.");

        var experiments = await context.Service<AbExperimentStore>().ListAsync(context.Cancel).ConfigureAwait(false);
        body.Tag("h2", "A/B experiments");
        body.Table(["experiment", "endpoint", "metric", "engine", "started", "status"], experiments.Select(e => new[]
        {
            Html.LinkCell(DashboardRoutes.AbExperiment(e.Spec.Name), e.Spec.Name), Html.LinkCell(DashboardRoutes.Endpoint(e.Spec.Endpoint!), e.Spec.Endpoint),
            Html.Cell($"{e.Spec.Metric?.Name} ({e.Spec.Metric?.Type})"), Html.Cell(e.Spec.Engine), Html.Cell(Html.Time(e.StartedAt)),
            Html.MarkupCell(StatusBadge(e.Status) + (e.Conclusion is { } decided ? Html.Encode($" winner: {decided.Winner ?? "none"}") : "")),
        }), "experiments", "No A/B experiments yet.");
        return new DashboardPage("Rollouts & experiments", "rollouts", body.ToString());
    }

    public static async Task<DashboardPage> RenderAsync(DashboardContext context)
    {
        var name = context.Http.GetRouteValue("name")!.ToString()!;
        var controller = context.Service<RolloutController>();
        var rollout = await controller.GetAsync(name, context.Cancel).ConfigureAwait(false);
        var analyses = await controller.AnalysesAsync(name, RolloutController.MaxAnalysesPage, cancellationToken: context.Cancel).ConfigureAwait(false);
        var (spec, state) = (rollout.Spec, rollout.State);
        var body = new Html();
        if (context.Query("done") is { } done && Commands.Contains(done))
        {
            body.Tag("p", $"Done: {done}.", "class=\"notice\" id=\"notice\"");
        }

        body.Raw("<dl class=\"facts\">").Tag("dt", "endpoint").Raw($"<dd><a href=\"{Html.Attribute(DashboardRoutes.Endpoint(spec.Endpoint!))}\">{Html.Encode(spec.Endpoint)}</a></dd>")
            .Tag("dt", "model").Tag("dd", spec.Model).Tag("dt", "stable").Tag("dd", $"{state.StableVariant} = {state.StableModel}")
            .Tag("dt", "strategy").Tag("dd", spec.Strategy ?? RolloutValidation.CanaryStrategy)
            .Tag("dt", "phase").Raw($"<dd id=\"phase\">{PhaseBadge(state.Phase)}</dd>").Tag("dt", "status").Tag("dd", state.Message).Raw("</dl>");

        if (state.Phase is RolloutPhases.Progressing or RolloutPhases.Paused)
        {
            if (context.User.CanAct)
            {
                body.Raw("<div id=\"actions\">");
                foreach (var command in Commands.Where(c => c != (state.Phase == RolloutPhases.Paused ? "pause" : "resume")))
                {
                    body.Raw(context.ActionForm(DashboardRoutes.RolloutAction(name, command), char.ToUpperInvariant(command[0]) + command[1..],
                        command == "abort" ? "danger" : command == "promote" ? "primary" : null));
                }

                body.Raw("</div>");
            }
            else
            {
                body.Tag("p", "Promote, pause and abort need an API key with the writer role.", "class=\"muted\" id=\"actions-readonly\"");
            }
        }

        body.Tag("h2", "Steps");
        body.Table(["#", "step", "state"], (spec.Steps ?? []).Select((step, i) => new[]
        {
            Html.Cell(i + 1, "0"), Html.Cell(StepText(step)),
            Html.MarkupCell(state.Phase == RolloutPhases.Succeeded || i < state.Step ? Html.Badge("done", "ok")
                : i == state.Step ? Html.Badge(state.Phase == RolloutPhases.Aborted ? "aborted here" : "current", state.Phase == RolloutPhases.Aborted ? "bad" : "info")
                : Html.Encode("to come")),
        }), "steps");

        Timeline(body, spec, state, analyses);

        if (state.History.Count > 0)
        {
            var first = state.History[0].At;
            body.Raw(SvgChart.Lines("canary-weight", "Canary weight (%) at each transition", state.History.Select(e => $"+{(e.At - first) / 1000.0:0.#}s").ToList(),
                [new ChartSeries("canary weight", state.History.Select(e => (double?)e.Weight).ToList())], "0", yMax: 100));
        }

        body.Tag("h2", "Transitions");
        body.Table(["time", "phase", "step", "weight", "reason"], state.History.Select(e => new[]
        {
            Html.Cell(Html.Time(e.At)), Html.MarkupCell(PhaseBadge(e.Phase)), Html.Cell(e.Step + 1, "0"), Html.Cell(e.Weight, "0"), Html.Cell(e.Message),
        }), "history");

        body.Tag("h2", "Analysis");
        if (state.Analysis is { } analysis)
        {
            body.Tag("p", $"Started {Html.Time(analysis.StartedAt)}; next measurement {Html.Time(analysis.NextAt)}. " +
                $"{analysis.Count("Successful")} successful, {analysis.Count("Failed")} failed, {analysis.Count("Inconclusive")} inconclusive.");
            body.Table(["time", "outcome", "values", "reason"], analysis.Measurements.Select(m => new[]
            {
                Html.Cell(Html.Time(m.At)), Html.MarkupCell(OutcomeBadge(m.Outcome)),
                Html.Cell(string.Join(", ", m.Values.Select(v => $"{v.Key}={v.Value.ToString("0.####", CultureInfo.InvariantCulture)}"))), Html.Cell(m.Reason),
            }), "measurements");
        }
        else
        {
            body.Tag("p", "No analysis is running at this step; ended analyses are in the step timeline above.", "class=\"muted\" id=\"no-analysis\"");
        }

        return new DashboardPage($"Rollout {name}", "rollouts", body.ToString(), Live: true);
    }

    /// <summary>promote / pause / resume / abort, as the API's commands; back to the rollout with a notice.</summary>
    public static async Task<string> CommandAsync(DashboardContext context)
    {
        var name = context.Http.GetRouteValue("name")!.ToString()!;
        var command = context.Http.GetRouteValue("command")!.ToString()!;
        var rollouts = context.Service<RolloutController>();
        _ = command switch
        {
            "promote" => await rollouts.PromoteAsync(name, context.Cancel).ConfigureAwait(false),
            "pause" => await rollouts.PauseAsync(name, context.Cancel).ConfigureAwait(false),
            "resume" => await rollouts.ResumeAsync(name, context.Cancel).ConfigureAwait(false),
            "abort" => await rollouts.AbortAsync(name, $"aborted by hand from the dashboard by {context.User.Name}", context.Cancel).ConfigureAwait(false),
            _ => throw Ballast.Tracking.TrackingException.NotFound($"'{command}' is not a rollout command; use promote, pause, resume or abort."),
        };
        return DashboardRoutes.Rollout(name) + "?done=" + command;
    }

    public static async Task<DashboardPage> ExperimentAsync(DashboardContext context)
    {
        var name = context.Http.GetRouteValue("name")!.ToString()!;
        var store = context.Service<AbExperimentStore>();
        var experiment = await store.GetAsync(name, context.Cancel).ConfigureAwait(false);
        var results = await store.ResultsAsync(name, context.Cancel).ConfigureAwait(false);
        var body = new Html();
        if (context.Query("done") is { } done && ExperimentCommands.Contains(done))
        {
            body.Tag("p", $"Done: {done}.", "class=\"notice\" id=\"notice\"");
        }

        body.Raw("<dl class=\"facts\">").Tag("dt", "status").Raw($"<dd id=\"status\">{StatusBadge(experiment.Status)}" +
                (experiment.StoppedAt is { } stoppedAt ? Html.Encode($" data collection stopped {Html.Time(stoppedAt)} by {experiment.StoppedBy}; results cover {Html.Time(experiment.StartedAt)} to {Html.Time(stoppedAt)}") : "") + "</dd>")
            .Tag("dt", "endpoint").Raw($"<dd><a href=\"{Html.Attribute(DashboardRoutes.Endpoint(results.Endpoint))}\">{Html.Encode(results.Endpoint)}</a></dd>")
            .Tag("dt", "metric").Tag("dd", $"{results.Metric} ({experiment.Spec.Metric?.Type})").Tag("dt", "engine").Tag("dd", results.Engine)
            .Tag("dt", "control").Tag("dd", results.Control).Tag("dt", "planned samples").Tag("dd", results.PlannedSamples.ToString(CultureInfo.InvariantCulture) + " per variant")
            .Tag("dt", "decision").Raw($"<dd id=\"decision\"><strong>{Html.Encode(results.Decision)}</strong>{(results.Provisional ? " " + Html.Badge("provisional", "warn") : "")}</dd>")
            .Tag("dt", "SRM").Raw("<dd id=\"srm\">" + (results.Srm is { } srm
                ? (srm.Mismatch ? Html.Badge("sample ratio mismatch", "bad") : Html.Badge("ok", "ok")) + Html.Encode($" p = {srm.PValue.ToString("0.####", CultureInfo.InvariantCulture)}; expected shares {string.Join(" / ", srm.ExpectedShares.Select(s => Html.Percent(s)))}")
                : Html.Encode("not checked (no fixed split)")) + "</dd>");
        if (results.Regret is { } regret)
        {
            body.Tag("dt", "regret").Tag("dd", regret.ToString("0.###", CultureInfo.InvariantCulture));
        }

        body.Raw("</dl>");
        ExperimentDecision(body, context, experiment, results);
        body.Tag("h2", "Variants");
        body.Table(["variant", "units", "samples", "share", "mean [CI]", "relative lift [CI]", "p-value", "chance to win", "verdict", "guardrails broken"], results.Variants.Select(v => new[]
        {
            Html.Cell(v.Variant), Html.Cell(v.Units, "0"), Html.Cell(v.Samples, "0"), Html.Cell(Html.Percent(v.Share), "num"),
            Html.Cell($"{Html.Number(v.Mean, "0.####")} [{Html.Number(v.MeanLower, "0.####")}, {Html.Number(v.MeanUpper, "0.####")}]", "num"),
            Html.Cell(v.RelativeLift is null ? "control" : $"{Html.Percent(v.RelativeLift)} [{Html.Percent(v.RelativeLower)}, {Html.Percent(v.RelativeUpper)}]", "num"),
            Html.Cell(v.PValue, "0.####"), Html.Cell(v.ChanceToWin is null ? "–" : Html.Percent(v.ChanceToWin), "num"),
            Html.MarkupCell(v.Verdict is null ? "" : Html.Badge(v.Verdict, v.Verdict == "better" ? "ok" : v.Verdict == "worse" ? "bad" : "info")),
            Html.Cell(string.Join(", ", v.GuardrailsBroken ?? [])),
        }), "variants");
        body.Raw(SvgChart.Intervals("means", $"{results.Metric}: mean per variant with its confidence interval", results.Variants.Select(v => (v.Variant, v.Mean, v.MeanLower, v.MeanUpper)).ToList(),
            results.Variants.FirstOrDefault(v => v.Variant == results.Control)?.Mean ?? 0, "0.###"));
        var lifts = results.Variants.Where(v => v.RelativeLift is not null && v.RelativeLower is not null && v.RelativeUpper is not null)
            .Select(v => (v.Variant, v.RelativeLift!.Value, v.RelativeLower!.Value, v.RelativeUpper!.Value)).ToList();
        if (lifts.Count > 0)
        {
            body.Raw(SvgChart.Intervals("lifts", $"Relative lift over {results.Control} with its confidence interval (green: better, red: worse)", lifts, 0, "0.##%"));
        }

        // Only a running experiment's numbers move.
        return new DashboardPage($"Experiment {name}", "rollouts", body.ToString(), Live: experiment.Status == AbExperimentStatuses.Running);
    }

    public static readonly IReadOnlyList<string> ExperimentCommands = ["stop", "conclude"];

    /// <summary>
    /// The decision when there is one (winner, reason, who and when, whether traffic moved, the results it was made
    /// on); otherwise, for writers, Stop (while running) and Conclude (winner, reason, apply) as CSRF-protected forms.
    /// </summary>
    private static void ExperimentDecision(Html body, DashboardContext context, StoredAbExperiment experiment, AbExperimentResults results)
    {
        var name = experiment.Spec.Name;
        if (experiment.Conclusion is { } conclusion)
        {
            body.Tag("h2", "Decision");
            body.Raw("<dl class=\"facts\" id=\"conclusion\">").Tag("dt", "winner").Raw($"<dd id=\"winner\"><strong>{Html.Encode(conclusion.Winner ?? "none")}</strong></dd>")
                .Tag("dt", "reason").Raw($"<dd id=\"reason\">{Html.Encode(conclusion.Reason.Length > 0 ? conclusion.Reason : "(none given)")}</dd>")
                .Tag("dt", "concluded").Raw($"<dd id=\"concluded\">{Html.Encode($"{Html.Time(conclusion.ConcludedAt)} by {conclusion.ConcludedBy}")}</dd>")
                .Tag("dt", "traffic").Raw($"<dd id=\"applied\">{Html.Encode(conclusion.AppliedAt is { } applied ? $"all traffic routed to {conclusion.Winner} at {Html.Time(applied)}"
                    : conclusion.Apply ? "routing to the winner was asked for but has not finished (the server retries it; the log says why it cannot)" : "left as it was")}</dd>")
                .Tag("dt", "analysis then").Raw($"<dd id=\"decided-on\">{Html.Encode(conclusion.Results.Decision)}</dd>").Raw("</dl>");
            body.Table(["variant", "units", "mean [CI]", "relative lift [CI]", "verdict"], conclusion.Results.Variants.Select(v => new[]
            {
                Html.Cell(v.Variant), Html.Cell(v.Units, "0"), Html.Cell($"{Html.Number(v.Mean, "0.####")} [{Html.Number(v.MeanLower, "0.####")}, {Html.Number(v.MeanUpper, "0.####")}]", "num"),
                Html.Cell(v.RelativeLift is null ? "control" : $"{Html.Percent(v.RelativeLift)} [{Html.Percent(v.RelativeLower)}, {Html.Percent(v.RelativeUpper)}]", "num"), Html.Cell(v.Verdict),
            }), "decision-results");
            return;
        }

        if (!context.User.CanAct)
        {
            body.Tag("p", "Stop and conclude need an API key with the writer role.", "class=\"muted\" id=\"experiment-actions-readonly\"");
            return;
        }

        body.Raw("<div id=\"experiment-actions\">");
        if (experiment.StoppedAt is null)
        {
            body.Raw(context.ActionForm(DashboardRoutes.AbExperimentAction(name, "stop"), "Stop data collection"));
        }

        body.Raw($"<form method=\"post\" action=\"{Html.Attribute(DashboardRoutes.AbExperimentAction(name, "conclude"))}\" id=\"conclude-form\" class=\"conclude\">")
            .Raw($"<input type=\"hidden\" name=\"{DashboardApi.CsrfField}\" value=\"{Html.Attribute(context.CsrfToken())}\">")
            .Raw("<label for=\"winner-select\">Winner</label> <select id=\"winner-select\" name=\"winner\"><option value=\"\">no winner</option>");
        foreach (var variant in results.Variants.Select(v => v.Variant))
        {
            body.Raw($"<option value=\"{Html.Attribute(variant)}\">{Html.Encode(variant)}</option>");
        }

        body.Raw("</select> <label for=\"reason-input\">Reason</label> <input type=\"text\" id=\"reason-input\" name=\"reason\" maxlength=\"2000\" size=\"50\">")
            .Raw(" <label><input type=\"checkbox\" id=\"apply-input\" name=\"apply\" value=\"true\"> route all traffic to the winner</label>")
            .Raw(" <button type=\"submit\" class=\"primary\">Conclude</button></form></div>");
    }

    /// <summary>stop / conclude from the experiment page's forms, as the API's; back to the experiment with a notice.</summary>
    public static async Task<string> ExperimentCommandAsync(DashboardContext context)
    {
        var name = context.Http.GetRouteValue("name")!.ToString()!;
        var command = context.Http.GetRouteValue("command")!.ToString()!;
        var store = context.Service<AbExperimentStore>();
        switch (command)
        {
            case "stop":
                await store.StopAsync(name, context.User.Name, context.Cancel).ConfigureAwait(false);
                break;
            case "conclude":
                var form = await context.Http.Request.ReadFormAsync(context.Cancel).ConfigureAwait(false);
                var winner = form["winner"].ToString();
                var apply = form["apply"].ToString();
                if (apply is not ("" or "true"))
                {
                    throw Ballast.Tracking.TrackingException.Invalid($"apply '{apply}' is not true (checked) or absent.");
                }

                await store.ConcludeAsync(name, new AbExperimentDecision(winner.Length == 0 ? null : winner, form["reason"].ToString(), apply == "true"), context.User.Name, context.Cancel)
                    .ConfigureAwait(false);
                break;
            default:
                throw Ballast.Tracking.TrackingException.NotFound($"'{command}' is not an experiment command; use stop or conclude.");
        }

        return DashboardRoutes.AbExperiment(name) + "?done=" + command;
    }

    private static string StatusBadge(string status) => Html.Badge(status, status switch
    {
        AbExperimentStatuses.Concluded => "ok",
        AbExperimentStatuses.Stopped => "warn",
        _ => "info",
    });

    /// <summary>
    /// Each step with the transitions it caused (why the rollout moved on, paused or aborted there) and the analyses
    /// that ended at it, each with its measurements per metric: the interval, the condition, the value and the result.
    /// </summary>
    private static void Timeline(Html body, RolloutSpec spec, RolloutState state, IReadOnlyList<StoredAnalysis> analyses)
    {
        var steps = spec.Steps ?? [];
        // A transition that moved to the next step belongs to the step it finished; any other to the step it happened at.
        var history = state.History;
        var owners = history.Select((e, k) => k > 0 && e.Step == history[k - 1].Step + 1 ? history[k - 1].Step : e.Step).ToList();
        body.Tag("h2", "Step timeline");
        body.Raw("<ol id=\"timeline\" class=\"timeline\">");
        for (var i = 0; i <= steps.Count; i++)
        {
            var events = history.Where((_, k) => owners[k] == i || (i == steps.Count && owners[k] > i)).ToList();
            var runs = analyses.Where(a => a.Analysis.Step == i).OrderBy(a => a.Id).ToList();
            if (i == steps.Count && events.Count == 0)
            {
                break;
            }

            body.Raw($"<li class=\"step\" id=\"timeline-step-{i + 1}\"><strong>{Html.Encode(i < steps.Count ? $"Step {i + 1}: {StepText(steps[i])}" : "After the last step")}</strong>");
            if (events.Count > 0)
            {
                body.Raw("<ul class=\"transitions\">");
                foreach (var e in events)
                {
                    body.Raw($"<li>{Html.Encode(Html.Time(e.At))} {PhaseBadge(e.Phase)} {Html.Encode(e.Message)}</li>");
                }

                body.Raw("</ul>");
            }

            foreach (var stored in runs)
            {
                var run = stored.Analysis;
                body.Raw($"<div class=\"analysis\" id=\"analysis-{stored.Id}\"><p>Analysis {stored.Id} of {Html.Encode(run.Variant)}: {OutcomeBadge(run.Outcome)} " +
                    $"{Html.Encode($"{Html.Time(run.StartedAt)} to {Html.Time(run.EndedAt)}: {run.Message}")}</p>");
                body.Table(["measured", "interval from", "metric", "condition", "value", "stable", "result"], run.Measurements.SelectMany(m => (m.Metrics ?? []).Count > 0
                    ? m.Metrics!.Select(metric => new[]
                    {
                        Html.Cell(Html.Time(m.At)), Html.Cell(m.From is { } from ? Html.Time(from) : "–"), Html.Cell(metric.Name), Html.Cell(metric.Condition), Html.Cell(metric.Value, "0.####"),
                        Html.Cell(metric.Stable, "0.####"), Html.MarkupCell(OutcomeBadge(metric.Result)),
                    })
                    : [[Html.Cell(Html.Time(m.At)), Html.Cell(m.From is { } from ? Html.Time(from) : "–"), Html.Cell("–"), Html.Cell(m.Reason), Html.Cell("–"), Html.Cell("–"), Html.MarkupCell(OutcomeBadge(m.Outcome))]]),
                    $"analysis-{stored.Id}-measurements");
                body.Raw("</div>");
            }

            body.Raw("</li>");
        }

        body.Raw("</ol>");
    }

    private static string OutcomeBadge(string outcome) => Html.Badge(outcome, outcome switch
    {
        "Successful" => "ok",
        "Failed" or "Error" => "bad",
        _ => "warn",
    });

    private static string StepText(RolloutStep step) => step switch
    {
        { SetWeight: { } weight } => $"set canary weight {weight}%",
        { Pause: { } pause } => step.PauseDuration() is { } duration ? $"pause {duration}" : "pause until promoted",
        { Analysis: not null } => "analysis",
        { SetPreview: true } => "load the preview",
        { Switch: true } => "switch to the new version",
        { Shadow: not null } => "shadow",
        _ => "step",
    };

    public static string PhaseBadge(string phase) => Html.Badge(phase, phase switch
    {
        RolloutPhases.Succeeded => "ok",
        RolloutPhases.Aborted => "bad",
        RolloutPhases.Paused => "warn",
        _ => "info",
    });
}
