using Ballast.Monitoring.Quality;
using Ballast.Serving;
using Ballast.Tracking;
using DuckDB.NET.Data;

namespace Ballast.Monitoring;

/// <summary>
/// Data quality per window: the monitor's <c>quality.suite</c>, or the endpoint's own expectations suite, checked by
/// <see cref="ExpectationValidator"/> over every input column of the window. Metrics: <c>quality.&lt;column&gt;.&lt;expectation&gt;</c>
/// (the unexpected share, a fraction), <c>quality.row_count</c> (1 when the window's row count is outside the suite's
/// <c>rows</c> bounds, else 0; likewise <c>quality.&lt;column&gt;.mean</c> and the other column aggregates), <c>quality.violation_rate</c> (rows breaking any row-level expectation),
/// <c>quality.failed</c> (expectations that failed), and <c>quality.flagged_rate</c> (rows whose request was flagged at serving),
/// each named by <see cref="MonitorMetricNames"/> (whose <see cref="MonitorMetricNames.QualityNames(ExpectationSuite)"/> lists them).
/// </summary>
public sealed class ExpectationWindowCheck(EndpointStore endpoints) : IWindowQualityCheck
{
    public async Task<WindowHookResult> CheckAsync(MonitorWindowContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var quality = context.Spec.Quality;
        if (quality?.Enabled is false)
        {
            return WindowHookResult.None;
        }

        var suite = quality?.Suite;
        ExpectationsSpec? served = null;
        if (suite is null)
        {
            try
            {
                served = (await endpoints.GetAsync(context.Spec.Endpoint!, cancellationToken).ConfigureAwait(false)).Spec.Expectations;
            }
            catch (TrackingException exception) when (exception.Code == TrackingException.ResourceDoesNotExist)
            {
                return WindowHookResult.Note($"no data quality: {exception.Message}");
            }

            suite = served?.Suite;
            if (suite is null)
            {
                return quality?.FromEndpoint is true ? WindowHookResult.Note($"no data quality: endpoint '{context.Spec.Endpoint}' has no expectations now") : WindowHookResult.None;
            }
        }

        var rows = context.Window.Rows;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MonitorMetricNames.QualityFlaggedRate] = rows == 0 ? 0 : (double)context.Window.Flagged.Count(flag => flag is not null) / rows,
        };
        try
        {
            using var connection = new DuckDBConnection("Data Source=:memory:");
            connection.Open();
            var path = context.InputsParquet().Replace("'", "''", StringComparison.Ordinal);
            var result = ExpectationValidator.Validate(connection, $"SELECT * FROM read_parquet('{path}')", suite, cancellationToken);
            foreach (var expectation in result.Expectations)
            {
                // Row-level kinds: the share of rows that break it; row_count and the column aggregates (mean, quantiles, …):
                // 1 when the window's value is out of bounds (or there is none), else 0.
                metrics[MonitorMetricNames.Quality(expectation.Column, expectation.Expectation)] = ExpectationKinds.IsAggregate(expectation.Expectation) ? (expectation.Success ? 0 : 1) : expectation.UnexpectedPercent / 100;
            }

            metrics[MonitorMetricNames.QualityFailed] = result.Failed;
            metrics[MonitorMetricNames.QualityViolationRate] = result.Rows == 0 ? 0 : (double)result.RowsFailing / result.Rows;
            return new WindowHookResult(metrics, []);
        }
        catch (ExpectationSuiteException exception)
        {
            return new WindowHookResult(metrics, [$"no data quality: {exception.Message}"]);
        }
    }
}
