using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Client;

namespace Ballast.Cli.Demo;

/// <summary>One row of demo traffic: the features a client sends and the outcome that becomes known later.</summary>
internal sealed record DemoRow(IReadOnlyDictionary<string, object> Features, bool Outcome);

/// <summary>What one scored request came back with, and whether it was right once the outcome arrived.</summary>
internal sealed record ScoredRow(string PredictionId, string ModelVersion, bool Predicted, bool Outcome)
{
    public bool Correct => Predicted == Outcome;
}

/// <summary>
/// Sends rows to an endpoint over the V2 protocol, a few at a time, and posts each outcome as feedback one batch later
/// (outcomes arrive after predictions, as they do in production). Keeps what came back so the demo can report
/// accuracy per model version.
/// </summary>
internal sealed class DemoTraffic(BallastClient client, string endpoint, int concurrency)
{
    private readonly ConcurrentQueue<ScoredRow> _scored = new();
    private List<ScoredRow> _awaitingOutcome = [];

    public IReadOnlyCollection<ScoredRow> Scored => _scored;

    /// <summary>Scores <paramref name="rows"/>, then posts the outcomes of the previous batch.</summary>
    public async Task<IReadOnlyList<ScoredRow>> SendAsync(IReadOnlyList<DemoRow> rows, CancellationToken cancellationToken)
    {
        var batch = new ScoredRow[rows.Count];
        await Parallel.ForAsync(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (index, token) =>
        {
            batch[index] = await ScoreAsync(rows[index], token).ConfigureAwait(false);
        }).ConfigureAwait(false);

        await PostOutcomesAsync(cancellationToken).ConfigureAwait(false);
        _awaitingOutcome = [.. batch];
        foreach (var row in batch)
        {
            _scored.Enqueue(row);
        }

        return batch;
    }

    /// <summary>Posts the outcomes still held back (at the end of a phase).</summary>
    public async Task PostOutcomesAsync(CancellationToken cancellationToken)
    {
        if (_awaitingOutcome.Count == 0)
        {
            return;
        }

        var items = new JsonArray();
        foreach (var row in _awaitingOutcome)
        {
            items.Add(new JsonObject { ["prediction_id"] = row.PredictionId, ["outcome"] = row.Outcome });
        }

        await client.PostJsonAsync("/api/v1/feedback", new JsonObject { ["feedback"] = items }, cancellationToken).ConfigureAwait(false);
        _awaitingOutcome = [];
    }

    private async Task<ScoredRow> ScoreAsync(DemoRow row, CancellationToken cancellationToken)
    {
        var inputs = new JsonArray();
        foreach (var (name, value) in row.Features)
        {
            inputs.Add(value switch
            {
                string text => new JsonObject { ["name"] = name, ["shape"] = new JsonArray(1), ["datatype"] = "BYTES", ["data"] = new JsonArray(text) },
                _ => new JsonObject { ["name"] = name, ["shape"] = new JsonArray(1), ["datatype"] = "FP32", ["data"] = new JsonArray(Convert.ToDouble(value, CultureInfo.InvariantCulture)) },
            });
        }

        using var content = new StringContent(new JsonObject { ["inputs"] = inputs }.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await client.Http.PostAsync($"/v2/models/{Uri.EscapeDataString(endpoint)}/infer", content, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Scoring on '{endpoint}' failed with {(int)response.StatusCode}: {body}");
        }

        var id = response.Headers.TryGetValues("Ballast-Prediction-Id", out var ids) ? ids.First() : throw new InvalidOperationException("The answer has no Ballast-Prediction-Id header.");
        var version = response.Headers.TryGetValues("Ballast-Model-Version", out var versions) ? versions.First() : "?";
        return new ScoredRow(id, version, PredictedLabel(body), row.Outcome);
    }

    /// <summary>The predicted label: the binary model's <c>PredictedLabel</c> output (BOOL), first element.</summary>
    private static bool PredictedLabel(string body)
    {
        using var document = JsonDocument.Parse(body);
        foreach (var output in document.RootElement.GetProperty("outputs").EnumerateArray())
        {
            if (output.GetProperty("name").GetString() == "PredictedLabel")
            {
                var first = output.GetProperty("data")[0];
                return first.ValueKind == JsonValueKind.True || (first.ValueKind == JsonValueKind.Number && first.GetDouble() != 0);
            }
        }

        throw new InvalidOperationException($"The answer has no PredictedLabel output: {body}");
    }
}
