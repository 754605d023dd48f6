using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ballast.Datasets;
using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Experiments;

// Results keep a NaN interval (one sample) as "NaN", as the API writes them.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(AbExperimentSpec))]
[JsonSerializable(typeof(AbExperimentResults))]
[JsonSerializable(typeof(ExperimentSplit))]
internal sealed partial class AbExperimentJsonContext : JsonSerializerContext;

/// <summary>What concludes an experiment: the winning variant (null: none), why, and whether to route all the endpoint's traffic to the winner.</summary>
public sealed record AbExperimentDecision(string? Winner = null, string? Reason = null, bool? Apply = null);

/// <summary>
/// A/B experiments in the metadata database, and their results computed from the prediction log and feedback. Stopping
/// ends data collection; concluding records the decision and, when asked, routes all traffic to the winner through
/// the endpoint store (then <paramref name="endpointsChanged"/> swaps the routing snapshot, as a rollout's promotion does).
/// Model covariates (CUPAC) need the <paramref name="registry"/> (their version is pinned and its signature checked) and
/// the <paramref name="scorer"/> that scores their dataset, as monitors score a reference; their dataset's files are
/// read through the monitors' reference <paramref name="cache"/> when there is one, so the store is read once for them.
/// </summary>
public sealed class AbExperimentStore(MetadataDatabase database, EndpointStore endpoints, PredictionExport predictions, KpiStore kpis, TrafficStats traffic, DatasetStore datasets,
    TimeProvider time, Func<CancellationToken, Task>? endpointsChanged = null, Registry.RegistryStore? registry = null, Monitoring.ReferenceScorer? scorer = null,
    Monitoring.ReferenceCache? cache = null)
{
    /// <summary>The longest reason a conclusion keeps.</summary>
    public const int MaxReasonLength = 2000;

    public async Task<StoredAbExperiment> CreateAsync(AbExperimentSpec spec, CancellationToken cancellationToken = default)
    {
        spec = await ValidateAsync(spec, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("INSERT INTO ab_experiments (name, spec, started_at) VALUES (@Name, @json, @now)",
                new { spec.Name, json = JsonSerializer.Serialize(spec, AbExperimentJsonContext.Default.AbExperimentSpec), now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            throw TrackingException.AlreadyExists($"Experiment '{spec.Name}' already exists; delete it first to start over.");
        }

        return new StoredAbExperiment(spec, now);
    }

    /// <summary>Creates the experiment, or changes its spec keeping its start (what `ballast apply` does); returns it and whether it changed.</summary>
    public async Task<(StoredAbExperiment Experiment, bool Changed)> PutAsync(AbExperimentSpec spec, CancellationToken cancellationToken = default)
    {
        var existing = (await QueryAsync("WHERE e.name = @name", new { name = spec.Name }, cancellationToken).ConfigureAwait(false)).SingleOrDefault();
        spec = await ValidateAsync(spec, cancellationToken, existing?.Spec).ConfigureAwait(false);
        var json = JsonSerializer.Serialize(spec, AbExperimentJsonContext.Default.AbExperimentSpec);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (existing is { StoppedAt: not null } ended && JsonSerializer.Serialize(ended.Spec, AbExperimentJsonContext.Default.AbExperimentSpec) != json)
        {
            // Its results are fixed over [start, stop]: a new spec would change what was decided on.
            throw TrackingException.Conflict($"Experiment '{spec.Name}' is {ended.Status}; its spec cannot change any more. Delete it and start a new one to test again.");
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO ab_experiments (name, spec, started_at) VALUES (@Name, @json, @now) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec WHERE ab_experiments.spec <> excluded.spec",
            new { spec.Name, json, now }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
        return (await GetAsync(spec.Name, cancellationToken).ConfigureAwait(false), changed);
    }

    public async Task<StoredAbExperiment> GetAsync(string name, CancellationToken cancellationToken = default) =>
        (await QueryAsync("WHERE e.name = @name", new { name }, cancellationToken).ConfigureAwait(false)).SingleOrDefault()
        ?? throw TrackingException.NotFound($"Experiment '{name}' does not exist.");

    public Task<IReadOnlyList<StoredAbExperiment>> ListAsync(CancellationToken cancellationToken = default) => QueryAsync("", null, cancellationToken);

    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM ab_experiment_conclusions WHERE experiment = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (await connection.ExecuteAsync(new CommandDefinition("DELETE FROM ab_experiments WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 0)
        {
            throw TrackingException.NotFound($"Experiment '{name}' does not exist.");
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends data collection now: from then on the results count the predictions (and the feedback and KPIs received)
    /// up to this moment, under the endpoint's split as it is now, so they stay what they are. Stopping twice is a conflict.
    /// </summary>
    public async Task<StoredAbExperiment> StopAsync(string name, string actor, CancellationToken cancellationToken = default)
    {
        var experiment = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (experiment.StoppedAt is not null)
        {
            throw Ended(experiment);
        }

        var split = await SplitAsync(experiment.Spec.Endpoint!, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await MarkStoppedAsync(connection, null, name, now, actor, split, cancellationToken).ConfigureAwait(false) == 0)
            {
                // Stopped (or deleted) by someone else meanwhile.
                throw Ended(await GetAsync(name, cancellationToken).ConfigureAwait(false));
            }
        }

        return await GetAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the decision: the winner (a variant of the experiment, or null for none), the reason, who and when, and
    /// the results at this moment; a running experiment stops now too. With <see cref="AbExperimentDecision.Apply"/>, all
    /// the endpoint's traffic then goes to the winner (the other variants stay, at weight 0). Concluding twice is a conflict.
    /// </summary>
    public async Task<StoredAbExperiment> ConcludeAsync(string name, AbExperimentDecision decision, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var experiment = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (experiment.Conclusion is not null)
        {
            throw Ended(experiment);
        }

        var split = experiment.Split ?? await SplitAsync(experiment.Spec.Endpoint!, cancellationToken).ConfigureAwait(false);
        var apply = decision.Apply ?? false;
        var reason = decision.Reason?.Trim() ?? "";
        var problems = new List<string>();
        if (decision.Winner is { } winner && !split.Variants.Contains(winner))
        {
            problems.Add($"winner '{winner}' is not a variant of the experiment ({string.Join(", ", split.Variants)})");
        }

        if (apply && decision.Winner is null)
        {
            problems.Add("apply routes all traffic to the winner: name the winner, or conclude without apply");
        }

        if (reason.Length > MaxReasonLength)
        {
            problems.Add($"reason is {reason.Length} characters; at most {MaxReasonLength}");
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid($"Cannot conclude experiment '{name}'", problems);
        }

        // Checked before anything is recorded, so a refusal leaves the experiment as it was.
        var routed = apply ? await RoutedToAsync(experiment.Spec, decision.Winner!, cancellationToken).ConfigureAwait(false) : null;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var stoppedAt = experiment.StoppedAt ?? now;
        var results = await ResultsAsync(experiment, stoppedAt, split, cancellationToken).ConfigureAwait(false);
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await MarkStoppedAsync(connection, transaction, name, stoppedAt, actor, split, cancellationToken).ConfigureAwait(false);
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO ab_experiment_conclusions (experiment, winner, reason, apply_winner, applied_at, concluded_by, concluded_at, results) " +
                    "VALUES (@name, @winner, @reason, @apply, NULL, @actor, @now, @results)",
                    new { name, winner = decision.Winner, reason, apply, actor, now, results = JsonSerializer.Serialize(results, AbExperimentJsonContext.Default.AbExperimentResults) },
                    transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
            {
                throw TrackingException.Conflict($"Experiment '{name}' was concluded meanwhile by someone else; look at its decision.");
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (routed is not null)
        {
            // Should this fail (the database or the process goes away), ApplyPendingAsync finishes it.
            await ApplyAsync(name, routed, cancellationToken).ConfigureAwait(false);
        }

        return await GetAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Finishes the applies that did not: conclusions with apply whose endpoint change failed after the decision was
    /// recorded, concluded at least <paramref name="grace"/> ago (a conclusion still applying itself is left alone).
    /// Each is applied to the endpoint as it is now; returns the experiments looked at, with why one cannot be applied
    /// (its endpoint is gone, lost the winner, or no longer routes by weights: it stays pending, as the page shows).
    /// </summary>
    public async Task<IReadOnlyList<(string Experiment, string? Problem)>> ApplyPendingAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        List<(string Experiment, string Winner)> pending;
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var before = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)grace.TotalMilliseconds;
            pending = (await connection.QueryAsync<(string, string)>(new CommandDefinition(
                "SELECT experiment, winner FROM ab_experiment_conclusions WHERE apply_winner = @yes AND applied_at IS NULL AND winner IS NOT NULL AND concluded_at <= @before ORDER BY concluded_at",
                new { yes = true, before }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        }

        var done = new List<(string, string?)>();
        foreach (var (experiment, winner) in pending)
        {
            try
            {
                var spec = (await GetAsync(experiment, cancellationToken).ConfigureAwait(false)).Spec;
                await ApplyAsync(experiment, await RoutedToAsync(spec, winner, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                done.Add((experiment, null));
            }
            catch (TrackingException exception)
            {
                done.Add((experiment, exception.Message));
            }
        }

        return done;
    }

    /// <summary>Writes the endpoint routed to the winner, swaps the routing snapshot, and records the apply.</summary>
    private async Task ApplyAsync(string name, EndpointSpec routed, CancellationToken cancellationToken)
    {
        await endpoints.PutAsync(routed, cancellationToken).ConfigureAwait(false);
        if (endpointsChanged is not null)
        {
            await endpointsChanged(cancellationToken).ConfigureAwait(false);
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("UPDATE ab_experiment_conclusions SET applied_at = @at WHERE experiment = @name",
            new { at = time.GetUtcNow().ToUnixTimeMilliseconds(), name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Marks a running experiment stopped at <paramref name="at"/> under <paramref name="split"/>; returns 0 when it was stopped (or deleted) already.</summary>
    private static Task<int> MarkStoppedAsync(DbConnection connection, DbTransaction? transaction, string name, long at, string actor, ExperimentSplit split,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "UPDATE ab_experiments SET stopped_at = @at, stopped_by = @actor, stopped_split = @split WHERE name = @name AND stopped_at IS NULL",
            new { at, actor, split = JsonSerializer.Serialize(split, AbExperimentJsonContext.Default.ExperimentSplit), name }, transaction, cancellationToken: cancellationToken));

    /// <summary>The endpoint with all its traffic on <paramref name="winner"/>: a split at 100 / 0 (a bandit becomes a split); its shadows and stickiness stay.</summary>
    private async Task<EndpointSpec> RoutedToAsync(AbExperimentSpec spec, string winner, CancellationToken cancellationToken)
    {
        var endpoint = (await endpoints.GetAsync(spec.Endpoint!, cancellationToken).ConfigureAwait(false)).Spec;
        var variants = endpoint.Variants ?? [];
        if (endpoint.Policy is EndpointValidation.RegimePolicy or EndpointValidation.EnsemblePolicy || endpoint.Regime is not null || endpoint.Ensemble is not null)
        {
            throw TrackingException.Invalid($"Cannot apply experiment '{spec.Name}': endpoint '{spec.Endpoint}' uses the {endpoint.Policy} policy, which does not route by weights; conclude without apply and change the endpoint yourself.");
        }

        if (!variants.Any(variant => variant.Name == winner))
        {
            throw TrackingException.Invalid($"Cannot apply experiment '{spec.Name}': endpoint '{spec.Endpoint}' no longer has the variant '{winner}' ({string.Join(", ", variants.Select(variant => variant.Name))}).");
        }

        return EndpointValidation.Validate(endpoint with
        {
            Policy = EndpointValidation.SplitPolicy,
            Bandit = null,
            Variants = variants.Select(variant => variant with { Weight = variant.Name == winner ? 100 : 0 }).ToList(),
        });
    }

    private static TrackingException Ended(StoredAbExperiment experiment) => TrackingException.Conflict(experiment.Conclusion is { } conclusion
        ? $"Experiment '{experiment.Spec.Name}' was concluded by {conclusion.ConcludedBy} at {Stamp(conclusion.ConcludedAt)} (winner: {conclusion.Winner ?? "none"}); a decision is final."
        : $"Experiment '{experiment.Spec.Name}' was stopped by {experiment.StoppedBy} at {Stamp(experiment.StoppedAt!.Value)}; conclude it to record the decision.");

    private static string Stamp(long at) => DateTimeOffset.FromUnixTimeMilliseconds(at).ToString("u", CultureInfo.InvariantCulture);

    /// <summary>The endpoint's variants now, and their weights as expected shares (none for a bandit, which moves traffic on purpose).</summary>
    private async Task<ExperimentSplit> SplitAsync(string endpoint, CancellationToken cancellationToken)
    {
        var spec = (await endpoints.GetAsync(endpoint, cancellationToken).ConfigureAwait(false)).Spec;
        var variants = spec.Variants ?? [];
        return new ExperimentSplit(variants.Select(variant => variant.Name).ToList(),
            spec.Policy == EndpointValidation.BanditPolicy ? null : variants.Select(variant => (double)(variant.Weight ?? 0)).ToList());
    }

    /// <summary>
    /// The experiment's results now: each variant's units (primary predictions since the start; forced and shadow ones
    /// are not units, and the <c>error_rate</c> guardrail counts routed requests only) and metrics (from their feedback or KPIs; CUPED-adjusted with the pre-period covariate when
    /// configured), checked against the endpoint's weights for sample-ratio mismatch, analysed by its engine;
    /// secondary metrics beside the primary one.
    /// </summary>
    public async Task<AbExperimentResults> ResultsAsync(string name, CancellationToken cancellationToken = default)
    {
        var experiment = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        return await ResultsAsync(experiment, experiment.StoppedAt, experiment.Split ?? await SplitAsync(experiment.Spec.Endpoint!, cancellationToken).ConfigureAwait(false), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// The results over [start, <paramref name="end"/>] (null: until now) under <paramref name="split"/>: once stopped,
    /// only the predictions made, and the feedback and KPIs received, by the stop count, so the results stay put.
    /// </summary>
    private async Task<AbExperimentResults> ResultsAsync(StoredAbExperiment experiment, long? end, ExperimentSplit split, CancellationToken cancellationToken)
    {
        var spec = experiment.Spec;
        var start = experiment.StartedAt;
        var guarded = (spec.Guardrails ?? []).Select(guardrail => guardrail.AsMetric()).OfType<MetricSpec>().ToList();
        List<MetricSpec> metrics = [spec.Metric!, .. spec.SecondaryMetrics ?? [], .. guarded];
        var covariates = spec.Cuped?.Each() ?? [];
        long PreStart(CupedSpec covariate) => covariate.Lookback is { } lookback ? start - (long)Durations.Parse(lookback)!.Value.TotalMilliseconds : start;
        // KPI values by metric index (a KPI's name never reaches the SQL text); the covariate's pre-period values apart.
        var kpiValues = new List<(int Metric, StoredKpi Kpi)>();
        for (var i = 0; i < metrics.Count; i++)
        {
            if (metrics[i].Source == MetricSpec.Kpi)
            {
                var values = end is { } until
                    ? await kpis.BetweenAsync(metrics[i].Name!, start, until + 1, cancellationToken).ConfigureAwait(false)
                    : await kpis.SinceAsync(metrics[i].Name!, start, cancellationToken).ConfigureAwait(false);
                kpiValues.AddRange(values.Select(kpi => (i, kpi)));
            }
        }

        var preKpis = new List<(int Covariate, StoredKpi Kpi)>();
        for (var j = 0; j < covariates.Count; j++)
        {
            if (covariates[j].Source == MetricSpec.Kpi)
            {
                var values = await kpis.BetweenAsync(covariates[j].Name!, PreStart(covariates[j]), start, cancellationToken).ConfigureAwait(false);
                preKpis.AddRange(values.Select(kpi => (j, kpi)));
            }
        }

        string Where(int j) => spec.Cuped!.Covariates is null ? "cuped" : $"cuped.covariates[{j}]";
        var scored = new Dictionary<int, List<(string? Key, double? X)>>();
        for (var j = 0; j < covariates.Count; j++)
        {
            if (covariates[j].Source == CupedSpec.ModelSource)
            {
                scored[j] = await ScoreAsync(spec.Name!, covariates[j], Where(j), cancellationToken).ConfigureAwait(false);
            }
        }

        var tables = new Dictionary<int, CovariateTable>();
        try
        {
            for (var j = 0; j < covariates.Count; j++)
            {
                if (covariates[j].Source == CupedSpec.Dataset)
                {
                    var version = await PinnedDatasetAsync(spec.Name!, covariates[j], Where(j), cancellationToken).ConfigureAwait(false);
                    tables[j] = await CovariateTable.OpenAsync(datasets, version, cache, cancellationToken).ConfigureAwait(false);
                }
            }

            return await ResultsAsync(spec, start, end, split, metrics, kpiValues, covariates, preKpis, tables, scored, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var table in tables.Values)
            {
                await table.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A model covariate's values (CUPAC): every row of its pinned dataset version scored by its pinned model version
    /// (<see cref="Monitoring.ReferenceScorer"/>, file by file, each file read through the reference cache and its scores
    /// cached per file when there is a cache), each row's key as text beside the chosen output as a number (null when not
    /// a finite number). A covariate that cannot be computed (its model version or dataset version gone, a column
    /// missing, the output not returned or not numbers, the model failing) is a 409 naming <paramref name="where"/>,
    /// the model version, the file and the column or output.
    /// </summary>
    private async Task<List<(string? Key, double? X)>> ScoreAsync(string experiment, CupedSpec cuped, string where, CancellationToken cancellationToken)
    {
        TrackingException Cannot(string problem) => CannotCompute(experiment, where, problem);
        if (scorer is null || registry is null)
        {
            throw Cannot("this server scores no model covariates (no model scorer)");
        }

        var model = ModelReference.Parse(cuped.Model!, "cuped.model");
        var number = model.Version!.Value.ToString(CultureInfo.InvariantCulture);
        try
        {
            await registry.GetVersionAsync(model.Name, number, cancellationToken).ConfigureAwait(false);
        }
        catch (TrackingException exception) when (exception.Code == TrackingException.ResourceDoesNotExist)
        {
            throw Cannot($"model version {cuped.Model}, pinned when the experiment started, does not exist any more ({exception.Message})");
        }

        var version = await PinnedDatasetAsync(experiment, cuped, where, cancellationToken).ConfigureAwait(false);
        var (name, index) = CupedSpec.ParseOutput(cuped.Output)!.Value;
        var column = index is { } k ? string.Create(CultureInfo.InvariantCulture, $"{name}[{k}]") : name;
        var rows = new List<(string? Key, double? X)>();
        foreach (var file in (version.Files ?? []).Where(file => DatasetProfiler.FormatOf(file.Path) is not null))
        {
            var source = $"{version.Reference} {file.Path}";
            using var table = await Monitoring.ReferenceTable.OpenAsync(Monitoring.MonitorReferenceSource.OfDatasetFile(datasets, source, file), cache, Path.GetTempPath(), cancellationToken)
                .ConfigureAwait(false);
            var keys = table.Texts(cuped.Key!) ?? throw Cannot($"{source} has no key column '{cuped.Key}'");
            IReadOnlyDictionary<string, List<object?>> outputs;
            try
            {
                outputs = await scorer.ScoreAsync(model.Name, model.Version.Value, cuped.FeatureNames, table, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException exception)
            {
                throw Cannot($"{cuped.Model} could not score {source}: {exception.Message}");
            }

            var values = outputs.GetValueOrDefault(column)
                ?? throw Cannot($"{cuped.Model} returned no output '{column}' for {source}; it returned {string.Join(", ", outputs.Keys)}");
            for (var row = 0; row < keys.Count; row++)
            {
                var x = Monitoring.WindowValues.Number(values[row]);
                if (x is null && values[row] is string text && !IsNonFinite(text))
                {
                    throw Cannot($"output '{column}' of {cuped.Model} is not a number: row {row + 1} of {source} scored '{text}'");
                }

                rows.Add((keys[row], x));
            }
        }

        return rows;
    }

    /// <summary>The dataset version a covariate pinned when the experiment started; a 409 naming <paramref name="where"/> when it was deleted since.</summary>
    private async Task<DatasetVersion> PinnedDatasetAsync(string experiment, CupedSpec cuped, string where, CancellationToken cancellationToken)
    {
        try
        {
            return await datasets.GetVersionAsync(DatasetReference.Parse(cuped.Name!), cancellationToken).ConfigureAwait(false);
        }
        catch (TrackingException exception) when (exception.Code == TrackingException.ResourceDoesNotExist)
        {
            throw CannotCompute(experiment, where, $"dataset version {cuped.Name}, pinned when the experiment started, does not exist any more ({exception.Message})");
        }
    }

    private static TrackingException CannotCompute(string experiment, string where, string problem) =>
        TrackingException.Conflict($"Cannot compute the results of experiment '{experiment}': {where}: {problem}");

    /// <summary>A number the scores cache keeps as text (NaN, ±∞): not counted, as a missing prediction is not.</summary>
    private static bool IsNonFinite(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && !double.IsFinite(number);

    /// <summary>
    /// The results query, once the KPI values and the covariates' pre-period KPIs and tables are at hand: per metric
    /// and variant, the units, the metric's sums, latency and, with CUPED, every covariate's sums (ΣXᵢ, ΣXᵢY, ΣXᵢXⱼ).
    /// </summary>
    private async Task<AbExperimentResults> ResultsAsync(AbExperimentSpec spec, long start, long? end, ExperimentSplit split, List<MetricSpec> metrics,
        List<(int Metric, StoredKpi Kpi)> kpiValues, IReadOnlyList<CupedSpec> covariates, List<(int Covariate, StoredKpi Kpi)> preKpis, Dictionary<int, CovariateTable> tables,
        Dictionary<int, List<(string? Key, double? X)>> scored, CancellationToken cancellationToken)
    {
        var variants = split.Variants;
        var guarded = (spec.Guardrails ?? []).Select(guardrail => guardrail.AsMetric()).OfType<MetricSpec>().ToList();
        long PreStart(CupedSpec covariate) => covariate.Lookback is { } lookback ? start - (long)Durations.Parse(lookback)!.Value.TotalMilliseconds : start;
        var k = covariates.Count;
        // Stopped: the log view ends at the stop, and the feedback is what it was then (sent, re-sent or changed later: not seen).
        // The log is read from the earliest pre-period a covariate takes from it (a dataset covariate reads none before the start).
        var from = covariates.Where(covariate => covariate.Source is not (CupedSpec.Dataset or CupedSpec.ModelSource)).Select(PreStart).DefaultIfEmpty(start).Min();
        var found = await predictions.QueryAsync(spec.Endpoint!, from, end, end, connection =>
        {
            foreach (var (j, table) in tables)
            {
                table.CreateView(connection, $"cuped_source_{j}");
            }

            using var command = connection.CreateCommand();
            foreach (var (j, rows) in scored)
            {
                // A model covariate's scored rows, aggregated per key by the query as a dataset's column is.
                command.CommandText = $"CREATE TABLE cuped_source_{j} (routing_key VARCHAR, x DOUBLE)";
                command.ExecuteNonQuery();
                using var appender = connection.CreateAppender($"cuped_source_{j}");
                foreach (var (key, x) in rows)
                {
                    var row = appender.CreateRow();
                    row = key is null ? row.AppendNullValue() : row.AppendValue(key);
                    (x is { } value ? row.AppendValue(value) : row.AppendNullValue()).EndRow();
                }
            }

            command.CommandText = "CREATE TABLE kpis (metric INTEGER, prediction_id VARCHAR, routing_key VARCHAR, value DOUBLE); CREATE TABLE pre_kpis (covariate INTEGER, prediction_id VARCHAR, routing_key VARCHAR, value DOUBLE)";
            command.ExecuteNonQuery();
            using (var appender = connection.CreateAppender("kpis"))
            {
                foreach (var (metric, kpi) in kpiValues)
                {
                    var row = appender.CreateRow().AppendValue(metric);
                    row = kpi.PredictionId is null ? row.AppendNullValue() : row.AppendValue(kpi.PredictionId);
                    row = kpi.RoutingKey is null ? row.AppendNullValue() : row.AppendValue(kpi.RoutingKey);
                    row.AppendValue(kpi.Value).EndRow();
                }
            }

            using (var appender = connection.CreateAppender("pre_kpis"))
            {
                foreach (var (covariate, kpi) in preKpis)
                {
                    var row = appender.CreateRow().AppendValue(covariate);
                    row = kpi.PredictionId is null ? row.AppendNullValue() : row.AppendValue(kpi.PredictionId);
                    row = kpi.RoutingKey is null ? row.AppendNullValue() : row.AppendValue(kpi.RoutingKey);
                    row.AppendValue(kpi.Value).EndRow();
                }
            }

            // One join per covariate; the sums over the units with a metric value: ΣXᵢ, ΣXᵢY, units with Xᵢ, then ΣXᵢXⱼ (i ≤ j).
            var pre = k == 0 ? "" : "WITH " + string.Join(", ", covariates.Select((covariate, j) => $"pre{j} AS ({Covariate(covariate, j, PreStart(covariate), start)})")) + " ";
            var xs = string.Concat(Enumerable.Range(0, k).Select(j => $", coalesce(pre{j}.x, 0) AS x{j}, pre{j}.x IS NOT NULL AS has{j}"));
            var joins = string.Concat(Enumerable.Range(0, k).Select(j => $" LEFT JOIN pre{j} ON pre{j}.routing_key = u.routing_key"));
            var pairs = Enumerable.Range(0, k).SelectMany(i => Enumerable.Range(i, k - i).Select(j => (i, j))).ToList();
            var sums = k == 0 ? "" : $", count(CASE WHEN v IS NOT NULL AND ({string.Join(" OR ", Enumerable.Range(0, k).Select(j => $"has{j}"))}) THEN 1 END)" +
                string.Concat(Enumerable.Range(0, k).Select(j => $", coalesce(sum(CASE WHEN v IS NOT NULL THEN x{j} END), 0), coalesce(sum(v * x{j}), 0), count(CASE WHEN v IS NOT NULL AND has{j} THEN 1 END)")) +
                string.Concat(pairs.Select(pair => $", coalesce(sum(CASE WHEN v IS NOT NULL THEN x{pair.i} * x{pair.j} END), 0)"));
            return metrics.Select((metric, i) =>
            {
                // A unit converts when its value is positive (no value: not converted); a mean is over the units with a value.
                var value = metric.Type == MetricSpec.Binomial ? "CASE WHEN u.raw > 0 THEN 1.0 ELSE 0.0 END" : "u.raw";
                command.CommandText = $"{pre}SELECT variant, count(*), count(v), coalesce(sum(v), 0), coalesce(sum(v * v), 0), avg(latency_ms), quantile_cont(latency_ms, 0.99){sums} " +
                    $"FROM (SELECT u.variant, u.latency_ms, {value} AS v{xs} FROM ({Units(metric, i, start)}) u{joins}) GROUP BY variant";
                using var reader = command.ExecuteReader();
                var rows = new Dictionary<string, MetricRow>(StringComparer.Ordinal);
                while (reader.Read())
                {
                    double Number(int column) => reader.IsDBNull(column) ? 0 : Convert.ToDouble(reader.GetValue(column), CultureInfo.InvariantCulture);
                    long Count(int column) => Convert.ToInt64(reader.GetValue(column), CultureInfo.InvariantCulture);
                    var (sumX, sumXY, with, sumXX) = (new double[k], new double[k], new long[k], new double[k, k]);
                    for (var j = 0; j < k; j++)
                    {
                        (sumX[j], sumXY[j], with[j]) = (Number(8 + (3 * j)), Number(9 + (3 * j)), Count(10 + (3 * j)));
                    }

                    foreach (var (pair, p) in pairs.Select((pair, p) => (pair, p)))
                    {
                        sumXX[pair.i, pair.j] = sumXX[pair.j, pair.i] = Number(8 + (3 * k) + p);
                    }

                    rows[reader.GetString(0)] = new MetricRow(Count(1), Count(2), Number(3), Number(4), Number(5), Number(6), k == 0 ? 0 : Count(7), sumX, sumXY, with, sumXX);
                }

                return rows;
            }).ToList();
        }, cancellationToken).ConfigureAwait(false);

        // Server errors over the requests the endpoint routed: forced ones are no units, here as in the prediction log.
        var errors = (spec.Guardrails ?? []).Any(guardrail => guardrail.Metric == GuardrailSpec.ErrorRate)
            ? (await traffic.WindowAsync(spec.Endpoint!, start, end ?? time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false)).ToDictionary(v => v.Variant, v => v.RoutedErrorRate, StringComparer.Ordinal)
            : [];
        List<VariantData> Data(MetricSpec metric, Dictionary<string, MetricRow> rows) => variants.Select(variant =>
        {
            var row = rows.GetValueOrDefault(variant) ?? new MetricRow(0, 0, 0, 0, 0, 0, 0, new double[k], new double[k], new long[k], new double[k, k]);
            var summary = metric.Type == MetricSpec.Binomial ? Statistics.SampleSummary.FromProportion((long)Math.Round(row.Sum), row.Units) : Statistics.SampleSummary.FromSums(row.Count, row.Sum, row.Squares);
            var data = new VariantData(variant, row.Units, summary, row.LatencyMean, row.LatencyP99, errors.GetValueOrDefault(variant));
            // One covariate (cuped: {...}): single-covariate CUPED's sums; a list (cuped: {covariates: [...]}): every covariate's.
            return spec.Cuped switch
            {
                null => data,
                { Covariates: null } => data with { Covariate = new Statistics.CupedSums(row.Count, row.Sum, row.Squares, row.SumX[0], row.SumXX[0, 0], row.SumXY[0]), WithCovariate = row.With[0] },
                _ => data with { Covariates = new Statistics.CovariateSums(row.Count, row.Sum, row.Squares, row.SumX, row.SumXY, row.SumXX), WithCovariate = row.WithAny, WithEachCovariate = row.With },
            };
        }).ToList();
        var secondaryCount = spec.SecondaryMetrics?.Count ?? 0;
        return AbExperimentAnalysis.Analyze(spec, Data(metrics[0], found[0]), split.Weights,
            [.. metrics.Skip(1).Take(secondaryCount).Select((metric, i) => (metric, (IReadOnlyList<VariantData>)Data(metric, found[i + 1])))],
            [.. guarded.Select((metric, i) => (IReadOnlyList<VariantData>)Data(metric, found[1 + secondaryCount + i]))]);
    }

    /// <summary>
    /// Each unit (a primary prediction since the start, never a forced or a shadow one) with its variant, latency,
    /// routing key and raw value (null: no feedback or KPI for it): the outcome (true or a number), the reward, or the
    /// sum of the KPI's values for the prediction and, for a routing key's values, for the key's first prediction.
    /// </summary>
    private static string Units(MetricSpec metric, int index, long start) => metric.Source switch
    {
        MetricSpec.Reward => $"SELECT variant, latency_ms, routing_key, reward AS raw FROM predictions WHERE kind = 'primary' AND timestamp >= {start}",
        MetricSpec.Kpi => $"WITH by_prediction AS (SELECT prediction_id, sum(value) AS v FROM kpis WHERE metric = {index} AND prediction_id IS NOT NULL GROUP BY 1), " +
            $"by_key AS (SELECT routing_key, sum(value) AS v FROM kpis WHERE metric = {index} AND routing_key IS NOT NULL GROUP BY 1), " +
            $"first_of_key AS (SELECT routing_key, first(prediction_id ORDER BY {PredictionSegments.Order}) AS prediction_id FROM predictions WHERE kind = 'primary' AND routing_key IS NOT NULL AND timestamp >= {start} GROUP BY 1) " +
            "SELECT p.variant, p.latency_ms, p.routing_key, CASE WHEN bp.v IS NULL AND bk.v IS NULL THEN NULL ELSE coalesce(bp.v, 0) + coalesce(bk.v, 0) END AS raw " +
            "FROM predictions p LEFT JOIN by_prediction bp ON bp.prediction_id = p.prediction_id LEFT JOIN first_of_key fk ON fk.prediction_id = p.prediction_id " +
            $"LEFT JOIN by_key bk ON bk.routing_key = fk.routing_key WHERE p.kind = 'primary' AND p.timestamp >= {start}",
        _ => $"SELECT variant, latency_ms, routing_key, {Outcome} AS raw FROM predictions WHERE kind = 'primary' AND timestamp >= {start}",
    };

    /// <summary>An outcome as a number: true 1, false 0, a number itself (quoted or not), else null.</summary>
    private const string Outcome = "CASE WHEN lower(trim(outcome, '\"')) = 'true' THEN 1.0 WHEN lower(trim(outcome, '\"')) = 'false' THEN 0.0 ELSE TRY_CAST(trim(outcome, '\"') AS DOUBLE) END";

    /// <summary>
    /// CUPED's covariate <paramref name="index"/> per routing key from the pre-period [<paramref name="preStart"/>, <paramref name="start"/>)
    /// (see <see cref="CupedSpec"/>); a dataset's from the view <c>cuped_source_{index}</c>, whole without a timestamp column;
    /// a model's from the table <c>cuped_source_{index}</c> of its scored rows, summed per key as a dataset's column is.
    /// </summary>
    private static string Covariate(CupedSpec cuped, int index, long preStart, long start) => cuped.Source switch
    {
        CupedSpec.ModelSource => $"SELECT routing_key, sum(x) AS x FROM cuped_source_{index} WHERE routing_key IS NOT NULL GROUP BY 1 HAVING count(x) > 0",
        CupedSpec.Dataset => $"SELECT CAST({DuckDbSql.Identifier(cuped.Key!)} AS VARCHAR) AS routing_key, sum(CAST({DuckDbSql.Identifier(cuped.Column!)} AS DOUBLE)) AS x FROM cuped_source_{index} " +
            $"WHERE {DuckDbSql.Identifier(cuped.Key!)} IS NOT NULL" +
            (cuped.Timestamp is { } timestamp ? $" AND epoch_ms(CAST({DuckDbSql.Identifier(timestamp)} AS TIMESTAMP)) >= {preStart} AND epoch_ms(CAST({DuckDbSql.Identifier(timestamp)} AS TIMESTAMP)) < {start}" : "") +
            $" GROUP BY 1 HAVING count({DuckDbSql.Identifier(cuped.Column!)}) > 0",
        MetricSpec.Kpi => $"SELECT routing_key, sum(value) AS x FROM (SELECT routing_key, value FROM pre_kpis WHERE covariate = {index} AND routing_key IS NOT NULL UNION ALL " +
            $"SELECT p.routing_key, k.value FROM pre_kpis k JOIN predictions p ON p.prediction_id = k.prediction_id WHERE k.covariate = {index} AND p.kind = 'primary' AND p.routing_key IS NOT NULL " +
            $"AND p.timestamp >= {preStart} AND p.timestamp < {start}) GROUP BY routing_key",
        MetricSpec.Reward => $"SELECT routing_key, avg(reward) AS x FROM predictions WHERE kind = 'primary' AND routing_key IS NOT NULL AND timestamp >= {preStart} AND timestamp < {start} GROUP BY routing_key HAVING count(reward) > 0",
        _ => $"SELECT routing_key, avg({Outcome}) AS x FROM predictions WHERE kind = 'primary' AND routing_key IS NOT NULL AND timestamp >= {preStart} AND timestamp < {start} GROUP BY routing_key HAVING count({Outcome}) > 0",
    };

    /// <summary>A variant's row: units, the metric's sums, latency, the units with any covariate, and per covariate ΣXᵢ, ΣXᵢY, the units with it, and ΣXᵢXⱼ.</summary>
    private sealed record MetricRow(long Units, long Count, double Sum, double Squares, double LatencyMean, double LatencyP99, long WithAny, double[] SumX, double[] SumXY, long[] With,
        double[,] SumXX);

    /// <summary>
    /// The spec's own checks, then against its endpoint (it exists, has two variants or more, and the control is one of
    /// them) and its dataset covariate's version (pinned: a bare name is the latest version now, or the version
    /// <paramref name="existing"/> pinned when it names the same dataset), which must have the covariate's columns.
    /// Every problem is listed in one 400, the spec's own with its endpoint's and covariates'; a missing endpoint,
    /// dataset or model is a 404 when it is the only thing wrong.
    /// </summary>
    private async Task<AbExperimentSpec> ValidateAsync(AbExperimentSpec spec, CancellationToken cancellationToken, AbExperimentSpec? existing = null)
    {
        var problems = new List<string>();
        var missing = new List<(string Problem, TrackingException NotFound)>();
        try
        {
            spec = AbExperimentValidation.Validate(spec);
        }
        catch (TrackingException invalid) when (invalid.Problems.Count > 0)
        {
            problems.AddRange(invalid.Problems);
        }

        // A covariate the spec's own checks refused is not looked up: those checks already say what to fix in it.
        if (spec.Cuped is { } cuped && !problems.Any(problem => problem.StartsWith("cuped", StringComparison.Ordinal)))
        {
            var pinnedBefore = (existing?.Cuped?.Each() ?? []).Where(covariate => covariate.Source is CupedSpec.Dataset or CupedSpec.ModelSource && covariate.Name is not null)
                .Select(covariate => DatasetReference.Parse(covariate.Name!)).ToList();
            var modelsBefore = (existing?.Cuped?.Each() ?? []).Where(covariate => covariate.Source == CupedSpec.ModelSource && covariate.Model is not null)
                .Select(covariate => ModelReference.Parse(covariate.Model!, "cuped.model")).ToList();
            var pinned = new List<CupedSpec>();
            var found = true;
            foreach (var (covariate, j) in cuped.Each().Select((covariate, j) => (covariate, j)))
            {
                if (covariate.Source is not (CupedSpec.Dataset or CupedSpec.ModelSource))
                {
                    pinned.Add(covariate);
                    continue;
                }

                var where = cuped.Covariates is null ? "cuped" : $"cuped.covariates[{j}]";
                var reference = DatasetReference.Parse(covariate.Name!);
                if (reference.Version is null && pinnedBefore.FirstOrDefault(before => before.Name == reference.Name) is { } before)
                {
                    reference = before;
                }

                DatasetVersion? version = null;
                try
                {
                    version = await datasets.GetVersionAsync(reference, cancellationToken).ConfigureAwait(false);
                }
                catch (TrackingException notFound) when (notFound.Code == TrackingException.ResourceDoesNotExist)
                {
                    missing.Add(($"{where}.name: {notFound.Message.TrimEnd('.')}", notFound));
                    found = false;
                }

                if (covariate.Source == CupedSpec.Dataset)
                {
                    if (version is null)
                    {
                        continue;
                    }

                    problems.AddRange(CovariateTable.Problems(version, covariate, where));
                    pinned.Add(covariate with { Name = version.Reference });
                    continue;
                }

                // A model covariate: an alias is pinned to its version now (or to the version pinned before, for the same model).
                var model = AbExperimentValidation.ModelReferenceOf(covariate.Model!, where);
                if (model.Version is null && modelsBefore.FirstOrDefault(before => before.Name == model.Name) is { } modelBefore)
                {
                    model = modelBefore;
                }

                if (registry is null || scorer is null)
                {
                    problems.Add($"{where}.source: this server scores no model covariates (no model registry)");
                    continue;
                }

                Registry.ModelVersion registered;
                try
                {
                    registered = await model.ResolveAsync(registry, cancellationToken).ConfigureAwait(false);
                }
                catch (TrackingException notFound) when (notFound.Code == TrackingException.ResourceDoesNotExist)
                {
                    missing.Add(($"{where}.model: {notFound.Message.TrimEnd('.')}", notFound));
                    found = false;
                    continue;
                }

                if (version is null)
                {
                    continue;
                }

                var pinnedModel = new ModelReference(model.Name, long.Parse(registered.Version, CultureInfo.InvariantCulture), null);
                problems.AddRange(ModelProblems(version, covariate, pinnedModel, Registry.ModelRegistration.SignatureOf(registered), where));
                pinned.Add(covariate with { Name = version.Reference, Model = pinnedModel.ToString() });
            }

            if (problems.Count == 0 && found)
            {
                spec = spec with { Cuped = cuped.Covariates is null ? pinned[0] : cuped with { Covariates = pinned } };
            }
        }

        if (!string.IsNullOrEmpty(spec.Endpoint))
        {
            try
            {
                var endpoint = await endpoints.GetAsync(spec.Endpoint, cancellationToken).ConfigureAwait(false);
                var variants = (endpoint.Spec.Variants ?? []).Select(variant => variant.Name).ToList();
                if (spec.Control is { } control && !variants.Contains(control))
                {
                    problems.Add($"control '{control}' is not a variant of endpoint '{spec.Endpoint}' ({string.Join(", ", variants)})");
                }

                if (variants.Count < 2)
                {
                    problems.Add($"endpoint '{spec.Endpoint}' has one variant; an experiment compares two or more");
                }
            }
            catch (TrackingException notFound) when (notFound.Code == TrackingException.ResourceDoesNotExist)
            {
                missing.Add(($"endpoint '{spec.Endpoint}' does not exist", notFound));
            }
        }

        if (problems.Count == 0 && missing.Count == 1)
        {
            throw missing[0].NotFound;
        }

        if (problems.Count > 0 || missing.Count > 0)
        {
            throw TrackingException.Invalid($"Invalid experiment '{spec.Name}'", [.. problems, .. missing.Select(item => item.Problem)]);
        }

        return spec;
    }

    /// <summary>
    /// What keeps a model covariate from scoring <paramref name="version"/>: the key column (as for a dataset covariate),
    /// the columns every input of the model's signature reads (named as monitors read them), and the output: one the
    /// model has, numeric, given as <c>NAME</c> for one value a row or <c>NAME[k]</c> with k a column of an [N, k] output.
    /// </summary>
    private static List<string> ModelProblems(DatasetVersion version, CupedSpec cuped, ModelReference model, Runtime.ModelSignature? signature, string where)
    {
        if (signature is null)
        {
            return [$"{where}.model: {model} has no recorded signature (register it with ballast models register, which reads its inputs and outputs)"];
        }

        var problems = new List<string>();
        var inputs = new List<(string Field, string Input, string Column, bool Numeric)>();
        foreach (var input in signature.Inputs)
        {
            try
            {
                var names = Monitoring.ReferenceScorer.InputColumns(input, cuped.FeatureNames);
                var field = cuped.FeatureNames?.ContainsKey(input.Name) == true ? $"{where}.feature_names.{input.Name}" : $"{where}.model";
                if (cuped.FeatureNames?.GetValueOrDefault(input.Name) is { } given && given.Count != names.Count)
                {
                    problems.Add($"{field}: input '{input.Name}' of {model} takes {names.Count} columns a row, not {given.Count}");
                    continue;
                }

                inputs.AddRange(names.Select(name => (field, input.Name, name, input.Datatype != Runtime.TensorDatatypes.Bytes)));
            }
            catch (InvalidOperationException exception)
            {
                problems.Add($"{where}.model: {model} {exception.Message}");
            }
        }

        foreach (var unknown in (cuped.FeatureNames?.Keys ?? []).Where(input => signature.Inputs.All(spec => spec.Name != input)))
        {
            problems.Add($"{where}.feature_names: {model} has no input '{unknown}'; it has {string.Join(", ", signature.Inputs.Select(input => input.Name))}");
        }

        problems.AddRange(CovariateTable.Problems(version, cuped, where, inputs));
        var (name, index) = CupedSpec.ParseOutput(cuped.Output)!.Value;
        if (signature.Outputs.FirstOrDefault(output => output.Name == name) is not { } spec)
        {
            problems.Add($"{where}.output: {model} has no output '{name}'; it has {string.Join(", ", signature.Outputs.Select(output => output.Name))}");
        }
        else if (!Runtime.TensorDatatypes.IsNumeric(spec.Datatype) && spec.Datatype != Runtime.TensorDatatypes.Bool)
        {
            problems.Add($"{where}.output: output '{name}' of {model} is {spec.Datatype}, not a number");
        }
        else if (spec.Shape.Count == 1 && index is not null)
        {
            problems.Add($"{where}.output: output '{name}' of {model} is one value a row ({spec}); give it as {name}, without an index");
        }
        else if (spec.Shape.Count == 2 && index is null)
        {
            problems.Add($"{where}.output: output '{name}' of {model} is {spec}; give the column as {name}[k]");
        }
        else if (spec.Shape.Count == 2 && spec.Shape[1] > 0 && index >= spec.Shape[1])
        {
            problems.Add($"{where}.output: output '{name}' of {model} has {spec.Shape[1]} columns; {index} is not between 0 and {spec.Shape[1] - 1}");
        }
        else if (spec.Shape.Count is not (1 or 2))
        {
            problems.Add($"{where}.output: output '{name}' of {model} is {spec}; a covariate takes one value a row, or a column of [N, k]");
        }

        return problems;
    }

    private async Task<IReadOnlyList<StoredAbExperiment>> QueryAsync(string where, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<ExperimentRow>(new CommandDefinition(
            "SELECT e.spec AS Spec, e.started_at AS StartedAt, e.stopped_at AS StoppedAt, e.stopped_by AS StoppedBy, e.stopped_split AS Split, c.winner AS Winner, c.reason AS Reason, " +
            "c.apply_winner AS Apply, c.applied_at AS AppliedAt, c.concluded_by AS ConcludedBy, c.concluded_at AS ConcludedAt, c.results AS Results " +
            $"FROM ab_experiments e LEFT JOIN ab_experiment_conclusions c ON c.experiment = e.name {where} ORDER BY e.name", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => row.ToExperiment()).ToList();
    }

    private sealed class ExperimentRow
    {
        public string Spec { get; set; } = "";

        public long StartedAt { get; set; }

        public long? StoppedAt { get; set; }

        public string? StoppedBy { get; set; }

        public string? Split { get; set; }

        public string? Winner { get; set; }

        public string? Reason { get; set; }

        public bool? Apply { get; set; }

        public long? AppliedAt { get; set; }

        public string? ConcludedBy { get; set; }

        public long? ConcludedAt { get; set; }

        public string? Results { get; set; }

        public StoredAbExperiment ToExperiment() => new(
            JsonSerializer.Deserialize(Spec, AbExperimentJsonContext.Default.AbExperimentSpec)!, StartedAt, StoppedAt, StoppedBy,
            Split is null ? null : JsonSerializer.Deserialize(Split, AbExperimentJsonContext.Default.ExperimentSplit),
            ConcludedAt is { } concludedAt
                ? new AbExperimentConclusion(Winner, Reason ?? "", Apply ?? false, AppliedAt, ConcludedBy ?? "", concludedAt, JsonSerializer.Deserialize(Results!, AbExperimentJsonContext.Default.AbExperimentResults)!)
                : null);
    }
}

/// <summary>
/// A dataset version's tabular files opened for a CUPED covariate (local files: leased from the monitors' reference
/// cache, else a local store's own or copies that dispose deletes), and the checks a version must pass: every table has the key, a numeric or boolean value column and
/// a date or time column for the timestamp (and, for a model covariate, the columns the model's inputs read).
/// </summary>
internal sealed class CovariateTable : IAsyncDisposable
{
    private readonly List<string> _copies = [];
    private readonly List<Monitoring.ReferenceCache.Lease> _leases = [];
    private readonly List<string> _readers = [];

    /// <summary>What keeps <paramref name="version"/> from serving as the covariate, each named after <paramref name="where"/> in the spec.</summary>
    public static List<string> Problems(DatasetVersion version, CupedSpec cuped, string where = "cuped", IReadOnlyList<(string Field, string Input, string Column, bool Numeric)>? inputs = null)
    {
        var tables = version.Profile?.Tables ?? [];
        if (tables.Count == 0)
        {
            return [$"{where}: dataset {version.Reference} has no CSV, TSV or Parquet file"];
        }

        var problems = new List<string>();
        foreach (var table in tables)
        {
            if (table.Error is not null)
            {
                problems.Add($"{where}: {version.Reference} {table.Path} could not be read: {table.Error}");
                continue;
            }

            var columns = table.Columns.ToDictionary(column => column.Name, StringComparer.Ordinal);
            void Check(string role, string? name, Func<ColumnProfile, bool> fits, string expected)
            {
                if (name is null)
                {
                    return;
                }

                if (!columns.TryGetValue(name, out var column))
                {
                    problems.Add($"{where}.{role}: {version.Reference} {table.Path} has no column '{name}'; it has {string.Join(", ", columns.Keys)}");
                }
                else if (!fits(column))
                {
                    problems.Add($"{where}.{role}: column '{name}' of {version.Reference} {table.Path} is {column.Type}, not {expected}");
                }
            }

            Check("key", cuped.Key, column => !DuckDbSql.IsFloat(column.Type) && !column.Type.StartsWith("DECIMAL", StringComparison.OrdinalIgnoreCase),
                "text or a whole number (routing keys are compared as text)");
            Check("column", cuped.Column, column => column.Kind is "numeric" or "boolean", "numeric or boolean");
            Check("timestamp", cuped.Timestamp, column => column.Kind == "datetime", "a date or timestamp");
            foreach (var (field, input, name, numeric) in inputs ?? [])
            {
                if (!columns.TryGetValue(name, out var column))
                {
                    problems.Add($"{field}: {version.Reference} {table.Path} has no column '{name}' for the model's input '{input}'; it has {string.Join(", ", columns.Keys)}");
                }
                else if (numeric && column.Kind is not ("numeric" or "boolean"))
                {
                    problems.Add($"{field}: column '{name}' of {version.Reference} {table.Path} is {column.Type}, not numeric or boolean for the model's input '{input}'");
                }
            }
        }

        return problems;
    }

    public static async Task<CovariateTable> OpenAsync(DatasetStore datasets, DatasetVersion version, Monitoring.ReferenceCache? cache, CancellationToken cancellationToken)
    {
        var table = new CovariateTable();
        try
        {
            foreach (var file in (version.Files ?? []).Where(file => DatasetProfiler.FormatOf(file.Path) is not null))
            {
                string path;
                if (cache is not null && await cache.BlobAsync(file, token => datasets.OpenBlobAsync(file.Sha256, token), cancellationToken).ConfigureAwait(false) is { } lease)
                {
                    table._leases.Add(lease);
                    path = lease.Path;
                }
                else
                {
                    var copy = Path.Combine(Path.GetTempPath(), "ballast-cuped-" + Guid.NewGuid().ToString("N"));
                    table._copies.Add(copy);
                    path = await datasets.LocalFileAsync(file, copy, cancellationToken).ConfigureAwait(false);
                }

                table._readers.Add(DatasetFileReader.Relation(path, file.Path));
            }

            if (table._readers.Count == 0)
            {
                throw TrackingException.Conflict($"cuped: dataset {version.Reference} has no CSV, TSV or Parquet file");
            }
        }
        catch
        {
            await table.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return table;
    }

    /// <summary>Every table's rows as one view (columns matched by name).</summary>
    public void CreateView(DuckDB.NET.Data.DuckDBConnection connection, string name) =>
        DuckDbSql.Execute(connection, $"CREATE OR REPLACE TEMP VIEW {name} AS {string.Join(" UNION ALL BY NAME ", _readers.Select(reader => $"SELECT * FROM {reader}"))}");

    public ValueTask DisposeAsync()
    {
        foreach (var copy in _copies)
        {
            File.Delete(copy);
        }

        foreach (var lease in _leases)
        {
            lease.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
