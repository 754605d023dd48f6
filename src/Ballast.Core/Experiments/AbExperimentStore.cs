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
    /// The experiment's results now: each variant's units (primary predictions since the start) and metric (from
    /// their feedback), checked against the endpoint's weights for sample-ratio mismatch, analysed by its engine.
    /// </summary>
    public async Task<AbExperimentResults> ResultsAsync(string name, CancellationToken cancellationToken = default)
    {
        var experiment = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        var spec = experiment.Spec;
        var endpoint = await endpoints.GetAsync(spec.Endpoint!, cancellationToken).ConfigureAwait(false);
        var variants = (endpoint.Spec.Variants ?? []).ToList();
        var metric = spec.Metric!;
        var binomial = metric.Type == MetricSpec.Binomial;
        var kpiValues = metric.Source == MetricSpec.Kpi ? await kpis.SinceAsync(metric.Name!, experiment.StartedAt, cancellationToken).ConfigureAwait(false) : [];
        // Each unit's raw value (null: no feedback or KPI for it): the outcome (true or a number), the reward, or the sum
        // of the KPI's values for the prediction and, for a routing key's values, for the key's first prediction.
        var units = metric.Source switch
        {
            MetricSpec.Reward => "SELECT variant, latency_ms, reward AS raw FROM predictions WHERE kind = 'primary'",
            MetricSpec.Kpi => "WITH by_prediction AS (SELECT prediction_id, sum(value) AS v FROM kpis WHERE prediction_id IS NOT NULL GROUP BY 1), " +
                "by_key AS (SELECT routing_key, sum(value) AS v FROM kpis WHERE routing_key IS NOT NULL GROUP BY 1), " +
                "first_of_key AS (SELECT routing_key, arg_min(prediction_id, timestamp) AS prediction_id FROM predictions WHERE kind = 'primary' AND routing_key IS NOT NULL GROUP BY 1) " +
                "SELECT p.variant, p.latency_ms, CASE WHEN bp.v IS NULL AND bk.v IS NULL THEN NULL ELSE coalesce(bp.v, 0) + coalesce(bk.v, 0) END AS raw " +
                "FROM predictions p LEFT JOIN by_prediction bp ON bp.prediction_id = p.prediction_id LEFT JOIN first_of_key fk ON fk.prediction_id = p.prediction_id " +
                "LEFT JOIN by_key bk ON bk.routing_key = fk.routing_key WHERE p.kind = 'primary'",
            _ => "SELECT variant, latency_ms, CASE WHEN lower(trim(outcome, '\"')) = 'true' THEN 1.0 WHEN lower(trim(outcome, '\"')) = 'false' THEN 0.0 " +
                "ELSE TRY_CAST(trim(outcome, '\"') AS DOUBLE) END AS raw FROM predictions WHERE kind = 'primary'",
        };
        // A unit converts when its value is positive (no value: not converted); a mean is over the units with a value.
        var value = binomial ? "CASE WHEN raw > 0 THEN 1.0 ELSE 0.0 END" : "raw";
        var rows = await predictions.QueryAsync(spec.Endpoint!, experiment.StartedAt, null, connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE kpis (prediction_id VARCHAR, routing_key VARCHAR, value DOUBLE)";
            command.ExecuteNonQuery();
            using (var appender = connection.CreateAppender("kpis"))
            {
                foreach (var kpi in kpiValues)
                {
                    var row = appender.CreateRow();
                    row = kpi.PredictionId is null ? row.AppendNullValue() : row.AppendValue(kpi.PredictionId);
                    row = kpi.RoutingKey is null ? row.AppendNullValue() : row.AppendValue(kpi.RoutingKey);
                    row.AppendValue(kpi.Value).EndRow();
                }
            }

            command.CommandText = "SELECT variant, count(*), count(v), coalesce(sum(v), 0), coalesce(sum(v * v), 0), avg(latency_ms), quantile_cont(latency_ms, 0.99) " +
                $"FROM (SELECT variant, latency_ms, {value} AS v FROM ({units})) GROUP BY variant";
            using var reader = command.ExecuteReader();
            var found = new Dictionary<string, (long Units, long Count, double Sum, double Squares, double LatencyMean, double LatencyP99)>(StringComparer.Ordinal);
            while (reader.Read())
            {
                found[reader.GetString(0)] = (Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture),
                    Convert.ToDouble(reader.GetValue(3), CultureInfo.InvariantCulture), Convert.ToDouble(reader.GetValue(4), CultureInfo.InvariantCulture),
                    Convert.ToDouble(reader.GetValue(5), CultureInfo.InvariantCulture), Convert.ToDouble(reader.GetValue(6), CultureInfo.InvariantCulture));
            }

            return found;
        }, cancellationToken).ConfigureAwait(false);

        var errors = (spec.Guardrails ?? []).Any(guardrail => guardrail.Metric == GuardrailSpec.ErrorRate)
            ? (await traffic.WindowAsync(spec.Endpoint!, experiment.StartedAt, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false)).ToDictionary(v => v.Variant, v => v.ErrorRate, StringComparer.Ordinal)
            : [];
        var data = variants.Select(variant =>
        {
            var (units, count, sum, squares, latencyMean, latencyP99) = rows.GetValueOrDefault(variant.Name);
            return new VariantData(variant.Name, units, binomial ? Statistics.SampleSummary.FromProportion((long)Math.Round(sum), units) : Statistics.SampleSummary.FromSums(count, sum, squares),
                latencyMean, latencyP99, errors.GetValueOrDefault(variant.Name));
        }).ToList();
        // A split's weights are the expected shares; a bandit moves traffic on purpose, so it has no sample-ratio check.
        var weights = endpoint.Spec.Policy == EndpointValidation.BanditPolicy ? null : variants.Select(variant => (double)(variant.Weight ?? 0)).ToList();
        return AbExperimentAnalysis.Analyze(spec, data, weights);
    }

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
