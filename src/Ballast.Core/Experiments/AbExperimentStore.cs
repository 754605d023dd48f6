using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Experiments;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AbExperimentSpec))]
internal sealed partial class AbExperimentJsonContext : JsonSerializerContext;

/// <summary>A/B experiments in the metadata database, and their results computed from the prediction log and feedback.</summary>
public sealed class AbExperimentStore(MetadataDatabase database, EndpointStore endpoints, PredictionExport predictions, KpiStore kpis, TrafficStats traffic, TimeProvider time)
{
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
        spec = await ValidateAsync(spec, cancellationToken).ConfigureAwait(false);
        var json = JsonSerializer.Serialize(spec, AbExperimentJsonContext.Default.AbExperimentSpec);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO ab_experiments (name, spec, started_at) VALUES (@Name, @json, @now) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec WHERE ab_experiments.spec <> excluded.spec",
            new { spec.Name, json, now }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
        return (await GetAsync(spec.Name, cancellationToken).ConfigureAwait(false), changed);
    }

    public async Task<StoredAbExperiment> GetAsync(string name, CancellationToken cancellationToken = default) =>
        (await QueryAsync("WHERE name = @name", new { name }, cancellationToken).ConfigureAwait(false)).SingleOrDefault()
        ?? throw TrackingException.NotFound($"Experiment '{name}' does not exist.");

    public Task<IReadOnlyList<StoredAbExperiment>> ListAsync(CancellationToken cancellationToken = default) => QueryAsync("", null, cancellationToken);

    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (await connection.ExecuteAsync(new CommandDefinition("DELETE FROM ab_experiments WHERE name = @name", new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 0)
        {
            throw TrackingException.NotFound($"Experiment '{name}' does not exist.");
        }
    }

    /// <summary>
    /// The experiment's results now: each variant's units (primary predictions since the start) and metrics (from
    /// their feedback or KPIs; CUPED-adjusted with the pre-period covariate when configured), checked against the
    /// endpoint's weights for sample-ratio mismatch, analysed by its engine; secondary metrics beside the primary one.
    /// </summary>
    public async Task<AbExperimentResults> ResultsAsync(string name, CancellationToken cancellationToken = default)
    {
        var experiment = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        var spec = experiment.Spec;
        var start = experiment.StartedAt;
        var endpoint = await endpoints.GetAsync(spec.Endpoint!, cancellationToken).ConfigureAwait(false);
        var variants = (endpoint.Spec.Variants ?? []).ToList();
        List<MetricSpec> metrics = [spec.Metric!, .. spec.SecondaryMetrics ?? []];
        var cuped = spec.Cuped;
        var preStart = cuped is null ? start : start - (long)AbExperimentValidation.Lookback(cuped.Lookback)!.Value.TotalMilliseconds;
        // KPI values by metric index (a KPI's name never reaches the SQL text); the covariate's pre-period values apart.
        var kpiValues = new List<(int Metric, StoredKpi Kpi)>();
        for (var i = 0; i < metrics.Count; i++)
        {
            if (metrics[i].Source == MetricSpec.Kpi)
            {
                kpiValues.AddRange((await kpis.SinceAsync(metrics[i].Name!, start, cancellationToken).ConfigureAwait(false)).Select(kpi => (i, kpi)));
            }
        }

        var preKpis = cuped?.Source == MetricSpec.Kpi ? await kpis.BetweenAsync(cuped.Name!, preStart, start, cancellationToken).ConfigureAwait(false) : [];
        var found = await predictions.QueryAsync(spec.Endpoint!, preStart, null, connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE kpis (metric INTEGER, prediction_id VARCHAR, routing_key VARCHAR, value DOUBLE); CREATE TABLE pre_kpis (prediction_id VARCHAR, routing_key VARCHAR, value DOUBLE)";
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
                foreach (var kpi in preKpis)
                {
                    var row = appender.CreateRow();
                    row = kpi.PredictionId is null ? row.AppendNullValue() : row.AppendValue(kpi.PredictionId);
                    row = kpi.RoutingKey is null ? row.AppendNullValue() : row.AppendValue(kpi.RoutingKey);
                    row.AppendValue(kpi.Value).EndRow();
                }
            }

            var pre = Covariate(cuped, start);
            return metrics.Select((metric, i) =>
            {
                // A unit converts when its value is positive (no value: not converted); a mean is over the units with a value.
                var value = metric.Type == MetricSpec.Binomial ? "CASE WHEN u.raw > 0 THEN 1.0 ELSE 0.0 END" : "u.raw";
                command.CommandText = $"WITH pre AS ({pre}) SELECT variant, count(*), count(v), coalesce(sum(v), 0), coalesce(sum(v * v), 0), avg(latency_ms), quantile_cont(latency_ms, 0.99), " +
                    "coalesce(sum(CASE WHEN v IS NOT NULL THEN x END), 0), coalesce(sum(CASE WHEN v IS NOT NULL THEN x * x END), 0), coalesce(sum(v * x), 0), count(CASE WHEN v IS NOT NULL AND has_x THEN 1 END) " +
                    $"FROM (SELECT u.variant, u.latency_ms, {value} AS v, coalesce(pre.x, 0) AS x, pre.x IS NOT NULL AS has_x FROM ({Units(metric, i, start)}) u LEFT JOIN pre ON pre.routing_key = u.routing_key) GROUP BY variant";
                using var reader = command.ExecuteReader();
                var rows = new Dictionary<string, MetricRow>(StringComparer.Ordinal);
                while (reader.Read())
                {
                    double Number(int column) => reader.IsDBNull(column) ? 0 : Convert.ToDouble(reader.GetValue(column), CultureInfo.InvariantCulture);
                    long Count(int column) => Convert.ToInt64(reader.GetValue(column), CultureInfo.InvariantCulture);
                    rows[reader.GetString(0)] = new MetricRow(Count(1), Count(2), Number(3), Number(4), Number(5), Number(6), Number(7), Number(8), Number(9), Count(10));
                }

                return rows;
            }).ToList();
        }, cancellationToken).ConfigureAwait(false);

        var errors = (spec.Guardrails ?? []).Any(guardrail => guardrail.Metric == GuardrailSpec.ErrorRate)
            ? (await traffic.WindowAsync(spec.Endpoint!, start, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false)).ToDictionary(v => v.Variant, v => v.ErrorRate, StringComparer.Ordinal)
            : [];
        List<VariantData> Data(MetricSpec metric, Dictionary<string, MetricRow> rows) => variants.Select(variant =>
        {
            var row = rows.GetValueOrDefault(variant.Name) ?? new MetricRow(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            var summary = metric.Type == MetricSpec.Binomial ? Statistics.SampleSummary.FromProportion((long)Math.Round(row.Sum), row.Units) : Statistics.SampleSummary.FromSums(row.Count, row.Sum, row.Squares);
            return new VariantData(variant.Name, row.Units, summary, row.LatencyMean, row.LatencyP99, errors.GetValueOrDefault(variant.Name),
                cuped is null ? null : new Statistics.CupedSums(row.Count, row.Sum, row.Squares, row.SumX, row.SumX2, row.SumXY), row.WithCovariate);
        }).ToList();
        // A split's weights are the expected shares; a bandit moves traffic on purpose, so it has no sample-ratio check.
        var weights = endpoint.Spec.Policy == EndpointValidation.BanditPolicy ? null : variants.Select(variant => (double)(variant.Weight ?? 0)).ToList();
        return AbExperimentAnalysis.Analyze(spec, Data(metrics[0], found[0]), weights, [.. metrics.Skip(1).Select((metric, i) => (metric, (IReadOnlyList<VariantData>)Data(metric, found[i + 1])))]);
    }

    /// <summary>
    /// Each unit (a primary prediction since the start) with its variant, latency, routing key and raw value (null: no
    /// feedback or KPI for it): the outcome (true or a number), the reward, or the sum of the KPI's values for the
    /// prediction and, for a routing key's values, for the key's first prediction.
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

    /// <summary>CUPED's covariate per routing key from the pre-period [start − lookback, start) (see <see cref="CupedSpec"/>); no rows without CUPED.</summary>
    private static string Covariate(CupedSpec? cuped, long start) => cuped?.Source switch
    {
        null => "SELECT NULL::VARCHAR AS routing_key, NULL::DOUBLE AS x WHERE false",
        MetricSpec.Kpi => "SELECT routing_key, sum(value) AS x FROM (SELECT routing_key, value FROM pre_kpis WHERE routing_key IS NOT NULL UNION ALL " +
            $"SELECT p.routing_key, k.value FROM pre_kpis k JOIN predictions p ON p.prediction_id = k.prediction_id WHERE p.kind = 'primary' AND p.routing_key IS NOT NULL AND p.timestamp < {start}) GROUP BY routing_key",
        MetricSpec.Reward => $"SELECT routing_key, avg(reward) AS x FROM predictions WHERE kind = 'primary' AND routing_key IS NOT NULL AND timestamp < {start} GROUP BY routing_key HAVING count(reward) > 0",
        _ => $"SELECT routing_key, avg({Outcome}) AS x FROM predictions WHERE kind = 'primary' AND routing_key IS NOT NULL AND timestamp < {start} GROUP BY routing_key HAVING count({Outcome}) > 0",
    };

    private sealed record MetricRow(long Units, long Count, double Sum, double Squares, double LatencyMean, double LatencyP99, double SumX, double SumX2, double SumXY, long WithCovariate);

    /// <summary>The spec's own checks, then against its endpoint: it exists, has two variants or more, and the control is one of them.</summary>
    private async Task<AbExperimentSpec> ValidateAsync(AbExperimentSpec spec, CancellationToken cancellationToken)
    {
        spec = AbExperimentValidation.Validate(spec);
        var endpoint = await endpoints.GetAsync(spec.Endpoint!, cancellationToken).ConfigureAwait(false);
        var variants = (endpoint.Spec.Variants ?? []).Select(variant => variant.Name).ToList();
        if (spec.Control is { } control && !variants.Contains(control))
        {
            throw TrackingException.Invalid($"Invalid experiment '{spec.Name}': control '{control}' is not a variant of endpoint '{spec.Endpoint}' ({string.Join(", ", variants)}).");
        }

        if (variants.Count < 2)
        {
            throw TrackingException.Invalid($"Invalid experiment '{spec.Name}': endpoint '{spec.Endpoint}' has one variant; an experiment compares two or more.");
        }

        return spec;
    }

    private async Task<IReadOnlyList<StoredAbExperiment>> QueryAsync(string where, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string Spec, long StartedAt)>(new CommandDefinition(
            $"SELECT spec, started_at FROM ab_experiments {where} ORDER BY name", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new StoredAbExperiment(JsonSerializer.Deserialize(row.Spec, AbExperimentJsonContext.Default.AbExperimentSpec)!, row.StartedAt)).ToList();
    }
}
