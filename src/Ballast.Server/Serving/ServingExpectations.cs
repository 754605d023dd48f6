using System.Runtime.CompilerServices;
using Ballast.Runtime;
using Ballast.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ballast.Server.Serving;

/// <summary>
/// An endpoint's data-quality expectations on the scoring path, before any model runs: every row is checked with the
/// endpoint's compiled <see cref="Monitoring.Quality.RowValidator"/>; in <c>reject</c> mode a failing request is a
/// <see cref="ModelInputException"/> (400 in the protocol's error format, nothing scored or logged), in <c>flag</c> mode it
/// is scored and answered with <c>Ballast-Expectations: failed=column.expectation,…</c>. Either way the rows and
/// violations are counted.
/// </summary>
internal static partial class ServingExpectations
{
    public const string Header = "Ballast-Expectations";

    private static readonly Counter CheckedRows = Metrics.CreateCounter("ballast_expectation_rows_total", "Rows of scoring requests checked against their endpoint's expectations.",
        new CounterConfiguration { LabelNames = ["endpoint"] });

    private static readonly Counter Violations = Metrics.CreateCounter("ballast_expectation_violations_total", "Rows of scoring requests that failed an expectation, by endpoint, column and expectation.",
        new CounterConfiguration { LabelNames = ["endpoint", "column", "expectation"] });

    private static readonly Counter Outcomes = Metrics.CreateCounter("ballast_expectation_requests_total", "Scoring requests checked against expectations, by outcome (passed, rejected, flagged).",
        new CounterConfiguration { LabelNames = ["endpoint", "outcome"] });

    // The per-endpoint series, looked up once per routed endpoint rather than per request.
    private static readonly ConditionalWeakTable<RoutedEndpoint, EndpointSeries> Series = [];

    /// <summary>Checks the request's rows; throws in reject mode, returns the flagged list (for the prediction log) in flag mode, null when they pass.</summary>
    public static string? Check(RoutedEndpoint endpoint, HttpContext http, IReadOnlyList<Tensor> inputs)
    {
        if (endpoint.Expectations is not { } validator)
        {
            return null;
        }

        var check = validator.Check(inputs);
        var series = Series.GetValue(endpoint, key => new EndpointSeries(key.Name));
        series.Rows.Inc(check.Rows);
        if (check.Passed)
        {
            series.Passed.Inc();
            return null;
        }

        foreach (var violation in check.Violations)
        {
            Violations.WithLabels(endpoint.Name, violation.Column, violation.Expectation).Inc(violation.Rows);
        }

        var failed = check.FailedList();
        if (endpoint.RejectsFailedExpectations)
        {
            series.Rejected.Inc();
            throw new ModelInputException(check.Describe(endpoint.Endpoint.Spec.Expectations!.Suite!));
        }

        series.Flagged.Inc();
        http.Response.Headers[Header] = "failed=" + failed;
        // Names only: the values may be personal data, and logs are not the place for them.
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServingExpectations).FullName!);
        if (logger.IsEnabled(LogLevel.Information))
        {
            LogFlagged(logger, endpoint.Name, failed, check.Rows);
        }

        return failed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {Endpoint}: request scored with failed expectations {Failed} ({Rows} rows checked)")]
    private static partial void LogFlagged(ILogger logger, string endpoint, string failed, int rows);

    private sealed class EndpointSeries(string endpoint)
    {
        public Counter.Child Rows { get; } = CheckedRows.WithLabels(endpoint);

        public Counter.Child Passed { get; } = Outcomes.WithLabels(endpoint, "passed");

        public Counter.Child Rejected { get; } = Outcomes.WithLabels(endpoint, "rejected");

        public Counter.Child Flagged { get; } = Outcomes.WithLabels(endpoint, "flagged");
    }
}
