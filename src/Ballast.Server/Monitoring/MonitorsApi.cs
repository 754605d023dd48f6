using Ballast.Monitoring;
using Ballast.Server.Security;
using Ballast.Server.Serialization;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Monitoring;

public sealed record MonitorListResponse(IReadOnlyList<MonitorSpec> Monitors);

/// <summary>
/// A closed window: [start, end) in Unix ms, its rows, status (ok, insufficient_data, failed), every metric by alert name,
/// and the report's path. A row window also has its exact bounds in the prediction log: <see cref="After"/> (the record
/// it starts after: the previous window's last; absent for the first) and <see cref="Last"/> (its last record).
/// </summary>
public sealed record MonitorWindowResponse(long Id, string Monitor, long Start, long End, long Rows, string Status, IReadOnlyDictionary<string, double> Metrics, string? Message, long ComputedAt, string Report,
    Ballast.Serving.LogPosition? After = null, Ballast.Serving.LogPosition? Last = null)
{
    public static MonitorWindowResponse From(StoredMonitorWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return new MonitorWindowResponse(window.Id, window.Monitor, window.Start, window.End, window.Rows, window.Status, window.Results.Metrics, window.Results.Message,
            window.ComputedAt, MonitorScheduler.ReportPath(window.Monitor, window.Id), window.After, window.Last);
    }
}

/// <summary>A page of windows, newest first; <see cref="NextBefore"/> (pass as <c>before</c>) pages on, null at the end.</summary>
public sealed record MonitorWindowsResponse(string Monitor, IReadOnlyList<MonitorWindowResponse> Windows, long? NextBefore);

/// <summary><c>/api/v1/monitors</c>: monitors of endpoints' traffic, their closed windows and each window's drift report.</summary>
public static class MonitorsApi
{
    public static IReadOnlyList<string> ReportFormats { get; } = ["json", "html", "md"];

    public static IEndpointRouteBuilder MapMonitorsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/monitors").WithTags("Monitors");
        group.MapPost("/", async (MonitorSpec spec, MonitorStore monitors, CancellationToken cancellationToken) =>
        {
            var created = await monitors.CreateAsync(spec, cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/monitors/{created.Spec.Name}", created.Spec);
        }).WithSummary("Creates a monitor of an endpoint's traffic (windows, reference, drift, performance, segments, KPIs).").RequireAuthorization(BallastPolicies.Writer)
            .WithMetadata(BodyValidation.For<MonitorSpec>((spec, _) => MonitorValidation.Validate(spec)));
        group.MapPut("/{name}", async Task<Ok<MonitorSpec>> (string name, MonitorSpec spec, MonitorStore monitors, CancellationToken cancellationToken) =>
        {
            BodyValidation.CheckNamedByPath("monitor", spec.Name, name);

            var (monitor, _) = await monitors.PutAsync(spec with { Name = name }, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(monitor.Spec);
        }).WithSummary("Creates or replaces a monitor (idempotent); its windows so far stay.").RequireAuthorization(BallastPolicies.Writer)
            .WithMetadata(BodyValidation.NamedByPath<MonitorSpec>("monitor", spec => spec.Name, (spec, name) => spec with { Name = name }, (spec, _) => MonitorValidation.Validate(spec)));
        group.MapGet("/", async (MonitorStore monitors, CancellationToken cancellationToken) =>
            TypedResults.Ok(new MonitorListResponse((await monitors.ListAsync(cancellationToken).ConfigureAwait(false)).Select(monitor => monitor.Spec).ToList())))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}", async (string name, MonitorStore monitors, CancellationToken cancellationToken) =>
            TypedResults.Ok((await monitors.GetAsync(name, cancellationToken).ConfigureAwait(false)).Spec))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapDelete("/{name}", async (string name, MonitorStore monitors, CancellationToken cancellationToken) =>
        {
            await monitors.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            MonitorMetrics.Forget(name);
            return TypedResults.NoContent();
        }).WithSummary("Deletes a monitor and its windows.").RequireAuthorization(BallastPolicies.Writer);
        group.MapGet("/{name}/windows", async (string name, int? limit, long? before, MonitorStore monitors, CancellationToken cancellationToken) =>
        {
            await monitors.GetAsync(name, cancellationToken).ConfigureAwait(false);
            var size = limit ?? 50;
            var windows = await monitors.WindowsAsync(name, size, before, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new MonitorWindowsResponse(name, windows.Select(MonitorWindowResponse.From).ToList(), windows.Count == size ? windows[^1].Id : null));
        }).WithSummary("Closed windows, newest first (limit, default 50, at most 500; before: a window id to page on).").RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}/windows/{id:long}", async (string name, long id, MonitorStore monitors, CancellationToken cancellationToken) =>
            TypedResults.Ok(MonitorWindowResponse.From(await monitors.GetWindowAsync(name, id, cancellationToken).ConfigureAwait(false))))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}/windows/{id:long}/report", async (string name, long id, string? format, MonitorStore monitors, CancellationToken cancellationToken) =>
        {
            format ??= "json";
            if (!ReportFormats.Contains(format))
            {
                throw TrackingException.Invalid($"format '{format}' is not one of {string.Join(", ", ReportFormats)}.");
            }

            var window = await monitors.GetWindowAsync(name, id, cancellationToken).ConfigureAwait(false);
            if (window.Results.Drift is not { } report)
            {
                throw TrackingException.NotFound($"Window {id} of monitor '{name}' has no drift report: its status is {window.Status}{(window.Results.Message is { } message ? $" ({message})" : "")}.");
            }

            return format switch
            {
                "html" => Results.Text(DriftReportHtml.Write(report), "text/html; charset=utf-8"),
                "md" => Results.Text(DriftReportMarkdown.Write(report), "text/markdown; charset=utf-8"),
                _ => Results.Text(DriftReportJson.Write(report.Result), "application/json; charset=utf-8"),
            };
        }).WithSummary("The window's drift report, as `ballast drift` writes it: json, html or md.").RequireAuthorization(BallastPolicies.Reader);
        group.MapPost("/{name}/evaluate", async (string name, MonitorScheduler scheduler, CancellationToken cancellationToken) =>
            TypedResults.Ok(MonitorWindowResponse.From(await scheduler.EvaluateNowAsync(name, cancellationToken).ConfigureAwait(false))))
            .WithSummary("Closes the current window now and computes it.").RequireAuthorization(BallastPolicies.Writer);
        return routes;
    }
}
