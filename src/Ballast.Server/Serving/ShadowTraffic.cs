using System.Diagnostics;
using Ballast.Runtime;
using Ballast.Serving;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Ballast.Server.Serving;

/// <summary>
/// Shadow variants get a copy of a share of requests once the caller's response has been sent, so they can never add
/// latency or errors to it. Their outputs go to the prediction log under the same prediction id with kind
/// <c>shadow</c>, and disagreements with the answered variant (first output differs) are counted.
/// </summary>
public static class ShadowTraffic
{
    private static readonly Counter Sent = Metrics.CreateCounter("ballast_shadow_requests_total", "Copies of requests scored by shadow variants.",
        new CounterConfiguration { LabelNames = ["endpoint", "shadow"] });

    private static readonly Counter Disagreements = Metrics.CreateCounter("ballast_shadow_disagreements_total", "Shadow answers whose first output differs from the answered variant's.",
        new CounterConfiguration { LabelNames = ["endpoint", "shadow"] });

    private static readonly Counter Failures = Metrics.CreateCounter("ballast_shadow_errors_total", "Shadow requests that failed (the caller never sees these).",
        new CounterConfiguration { LabelNames = ["endpoint", "shadow"] });

    /// <summary>Schedules the copies for after the response; does nothing for an endpoint without shadows.</summary>
    internal static void AfterResponse(HttpContext http, RoutedEndpoint endpoint, InferenceApi.Scored scored, IReadOnlyList<Tensor> inputs, PredictionLog log, TimeProvider time)
    {
        if (endpoint.Shadows.Count == 0)
        {
            return;
        }

        var chosen = endpoint.Shadows.Where(shadow => Random.Shared.Next(100) < shadow.Weight).ToList();
        if (chosen.Count == 0)
        {
            return;
        }

        var traffic = http.RequestServices.GetRequiredService<TrafficStats>();
        http.Response.OnCompleted(() =>
        {
            _ = Task.Run(() => SendAsync(endpoint, scored, inputs, chosen, log, traffic, time));
            return Task.CompletedTask;
        });
    }

    private static async Task SendAsync(RoutedEndpoint endpoint, InferenceApi.Scored scored, IReadOnlyList<Tensor> inputs, List<RoutedVariant> shadows, PredictionLog log, TrafficStats traffic, TimeProvider time)
    {
        foreach (var shadow in shadows)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var outputs = await shadow.Model.Runtime.InferAsync(inputs).ConfigureAwait(false);
                var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Sent.WithLabels(endpoint.Name, shadow.Name).Inc();
                var disagreed = !SameFirstOutput(outputs, scored.Invocation.Outputs);
                if (disagreed)
                {
                    Disagreements.WithLabels(endpoint.Name, shadow.Name).Inc();
                }

                // Shared with every replica, for a rollout's shadow step.
                traffic.Record(endpoint.Name, shadow.Name, latency, error: false, disagreed: disagreed);

                await log.AppendAsync(new PredictionRecord(scored.PredictionId, endpoint.Name, shadow.Name, shadow.Model.Reference, time.GetUtcNow().ToUnixTimeMilliseconds(),
                    latency, scored.RoutingKey, inputs, outputs, PredictionRecord.Shadow)).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                Failures.WithLabels(endpoint.Name, shadow.Name).Inc();
                traffic.Record(endpoint.Name, shadow.Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds, error: exception is not ModelInputException, rejected: exception is ModelInputException);
            }
        }
    }

    private static bool SameFirstOutput(IReadOnlyList<Tensor> shadow, IReadOnlyList<Tensor> primary)
    {
        if (shadow.Count == 0 || primary.Count == 0)
        {
            return shadow.Count == primary.Count;
        }

        var a = shadow[0].Data;
        var b = primary.FirstOrDefault(output => output.Name == shadow[0].Name)?.Data;
        if (b is null || a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (!Equals(a.GetValue(i), b.GetValue(i)))
            {
                return false;
            }
        }

        return true;
    }
}
