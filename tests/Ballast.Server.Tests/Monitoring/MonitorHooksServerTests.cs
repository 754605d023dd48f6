using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Runtime;
using Ballast.Training;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// A monitor with data quality (the endpoint's own flagged expectations), CBPE and fairness on a served binary ML.NET
/// model trained in the test on synthetic loans, over a real Kestrel port: a window of reference-like traffic with
/// feedback is the reference; the next window, of the shifted regime, carries every hook's metrics.
/// </summary>
public sealed class MonitorHooksServerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private const int BatchRows = 50;

    /// <summary>Scores the file's rows in batches of 50 (V2 tensors as the model's signature asks), then posts each row's true label as feedback.</summary>
    private static async Task ScoreAsync(HttpClient client, string file, ModelSignature signature, IReadOnlyList<LoanApplication> rows)
    {
        var tensors = ServingInputs.Read(file, signature);
        var feedback = new List<object>();
        for (var start = 0; start < rows.Count; start += BatchRows)
        {
            var count = Math.Min(BatchRows, rows.Count - start);
            var inputs = tensors.Select(tensor => new
            {
                name = tensor.Name,
                datatype = tensor.Datatype,
                shape = new[] { count },
                data = tensor.Data.Cast<object>().Skip(start).Take(count).ToArray(),
            }).ToArray();
            using var response = await client.PostAsJsonAsync("/v2/models/loans/infer", new { inputs }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
            feedback.Add(new { prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single(), outcome = rows.Skip(start).Take(count).Select(row => row.Defaulted).ToArray() });
        }

        (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback }, Cancel)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_monitor_adds_quality_estimated_performance_and_fairness_to_a_served_binary_models_windows()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-monitor-hooks-").FullName;
        try
        {
            var train = Path.Combine(folder, "train.csv");
            SyntheticLoans.WriteCsv(train, SyntheticLoans.Generate(600, seed: 1));
            var spec = new TrainingSpec { Label = SyntheticLoans.Label, Task = TrainingTasks.Binary, Trainer = TrainerNames.FastTree, Seed = 3, Exclude = [SyntheticLoans.Id] };
            var model = await new ModelTrainer(TimeProvider.System).TrainAsync(spec, train, null, Path.Combine(folder, "model"), Cancel);

            await using var server = await RunningServer.StartAsync();
            using var client = server.Client();
            using (var form = new MultipartFormDataContent())
            {
                var zip = new ByteArrayContent(await File.ReadAllBytesAsync(model.ModelPath, Cancel));
                zip.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
                form.Add(zip, "file", "model.zip");
                using var registered = await client.PostAsync("/api/v1/models/loans/versions", form, Cancel);
                registered.StatusCode.ShouldBe(HttpStatusCode.Created, await registered.Content.ReadAsStringAsync(Cancel));
            }

            using (var endpoint = await client.PutAsJsonAsync("/api/v1/endpoints/loans", new
            {
                variants = new[] { new { name = "main", model = "models:/loans/1" } },
                expectations = new { mode = "flag", suite = new { columns = new Dictionary<string, object> { ["credit_score"] = new { min = 300, max = 850 } } } },
            }, Cancel))
            {
                endpoint.IsSuccessStatusCode.ShouldBeTrue(await endpoint.Content.ReadAsStringAsync(Cancel));
            }

            var from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var monitor = new Dictionary<string, object>
            {
                ["name"] = "loans-watch",
                ["endpoint"] = "loans",
                ["window"] = new { rows = 1_000_000 },
                ["reference"] = new { from = from.ToString(CultureInfo.InvariantCulture), to = (from + 1).ToString(CultureInfo.InvariantCulture) },
                ["estimated"] = new { probability_output = "Probability", positive_class = "true", normalize_confusion_matrix = "rows" },
                ["fairness"] = new { sensitive = "region", positive_class = "true" },
            };
            using (var refused = await client.PostAsJsonAsync("/api/v1/monitors", monitor, Cancel))
            {
                refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
                refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
                (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
                    "Invalid monitor 'loans-watch': estimated.normalize_confusion_matrix 'rows' is not one of true, pred, all " +
                    "(NannyML's: by the true class's row, the predicted class's column, or all rows); leave it out for expected counts.");
            }

            // As YAML's unquoted true writes it: a JSON boolean, stored as NannyML's "true".
            monitor["estimated"] = new { probability_output = "Probability", positive_class = "true", normalize_confusion_matrix = true };
            using (var created = await client.PostAsJsonAsync("/api/v1/monitors", monitor, Cancel))
            {
                created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
                var stored = await created.Content.ReadFromJsonAsync<JsonElement>(Cancel);
                stored.GetProperty("estimated").GetProperty("probability_output").GetString().ShouldBe("Probability");
                stored.GetProperty("estimated").GetProperty("normalize_confusion_matrix").GetString().ShouldBe("true");
                stored.GetProperty("fairness").GetProperty("sensitive").GetString().ShouldBe("region");
            }

            // Reference-like traffic with feedback becomes the reference.
            var referenceRows = SyntheticLoans.Generate(300, seed: 2);
            var referenceFile = Path.Combine(folder, "reference.csv");
            SyntheticLoans.WriteCsv(referenceFile, referenceRows);
            await ScoreAsync(client, referenceFile, model.Signature, referenceRows);
            monitor["reference"] = new { from = from.ToString(CultureInfo.InvariantCulture), to = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1).ToString(CultureInfo.InvariantCulture) };
            (await client.PutAsJsonAsync("/api/v1/monitors/loans-watch", monitor, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);

            // The same rows as a dataset: features and labels, no probabilities; CBPE scores it with the endpoint's model.
            var csv = await File.ReadAllBytesAsync(referenceFile, Cancel);
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(csv));
            (await client.PutAsync($"/api/v1/datasets/blobs/{sha}", new ByteArrayContent(csv), Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await client.PostAsJsonAsync("/api/v1/datasets/loans-reference/versions", new { files = new[] { new { path = "reference.csv", size = csv.Length, sha256 = sha } } }, Cancel))
                .StatusCode.ShouldBe(HttpStatusCode.Created);
            var datasetMonitor = new Dictionary<string, object>
            {
                ["name"] = "loans-dataset",
                ["endpoint"] = "loans",
                ["window"] = new { rows = 1_000_000 },
                ["reference"] = new { dataset = "loans-reference" },
                ["estimated"] = new { probability_output = "Probability", positive_class = "true", label = SyntheticLoans.Label, normalize_confusion_matrix = "true" },
            };
            (await client.PostAsJsonAsync("/api/v1/monitors", datasetMonitor, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
            datasetMonitor["name"] = "loans-dataset-again";
            (await client.PostAsJsonAsync("/api/v1/monitors", datasetMonitor, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);

            // Version 1 has the model's inputs and labels: a monitor of the bare name is accepted (the model may score it).
            (await client.PostAsJsonAsync("/api/v1/datasets/loans-labels/versions", new { files = new[] { new { path = "labels.csv", size = csv.Length, sha256 = sha } } }, Cancel))
                .StatusCode.ShouldBe(HttpStatusCode.Created);
            datasetMonitor["name"] = "loans-labels";
            datasetMonitor["reference"] = new { dataset = "loans-labels" };
            (await client.PostAsJsonAsync("/api/v1/monitors", datasetMonitor, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);

            // Version 2, labels and the region only: the model's other inputs are not there, so no model of the endpoint can
            // score it. Storing a monitor of it is refused; the monitor of the bare name reads it at its window, which says why.
            var labels = System.Text.Encoding.UTF8.GetBytes("region,defaulted\n" + string.Concat(referenceRows.Select(row => $"{row.Region},{(row.Defaulted ? "true" : "false")}\n")));
            var labelsSha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(labels));
            (await client.PutAsync($"/api/v1/datasets/blobs/{labelsSha}", new ByteArrayContent(labels), Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await client.PostAsJsonAsync("/api/v1/datasets/loans-labels/versions", new { files = new[] { new { path = "labels.csv", size = labels.Length, sha256 = labelsSha } } }, Cancel))
                .StatusCode.ShouldBe(HttpStatusCode.Created);
            datasetMonitor["name"] = "loans-labels-pinned";
            datasetMonitor["reference"] = new { dataset = "loans-labels", version = 2 };
            using (var refused = await client.PostAsJsonAsync("/api/v1/monitors", datasetMonitor, Cancel))
            {
                refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
                refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
                var detail = (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!;
                detail.ShouldStartWith("Invalid monitor 'loans-labels-pinned': estimated.probability_output: loans-labels@2 labels.csv has no column 'Probability' (or 'Probability[1]') " +
                    "with the model's probabilities, and no model of endpoint 'loans' can score it: variant 'main' (models:/loans/1) reads '");
                detail.ShouldEndWith("(feature_names names an [N, k] input's columns); it has region, defaulted.");
            }
            (await client.PostAsync("/api/v1/monitors/loans-dataset/evaluate", null, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await client.PostAsync("/api/v1/monitors/loans-dataset-again/evaluate", null, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
            var baseline = await (await client.PostAsync("/api/v1/monitors/loans-watch/evaluate", null, Cancel)).Content.ReadFromJsonAsync<JsonElement>(Cancel);
            baseline.GetProperty("status").GetString().ShouldBe("ok", baseline.ToString());
            baseline.GetProperty("metrics").GetProperty("quality.failed").GetDouble().ShouldBe(0, "the endpoint's suite is the default; the reference traffic keeps it");

            // The shifted regime; the first batch's first 5 rows have a credit score above the endpoint's maximum (flagged, scored).
            var shiftedRows = SyntheticLoans.Generate(300, seed: 3, shift: true).Select((row, i) => i < 5 ? row with { CreditScore = 900 } : row).ToList();
            var shiftedFile = Path.Combine(folder, "shifted.csv");
            SyntheticLoans.WriteCsv(shiftedFile, shiftedRows);
            await ScoreAsync(client, shiftedFile, model.Signature, shiftedRows);
            using var evaluated = await client.PostAsync("/api/v1/monitors/loans-watch/evaluate", null, Cancel);
            evaluated.StatusCode.ShouldBe(HttpStatusCode.OK, await evaluated.Content.ReadAsStringAsync(Cancel));
            var window = await evaluated.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            window.GetProperty("status").GetString().ShouldBe("ok", window.ToString());
            var metrics = window.GetProperty("metrics");
            double Metric(string name) => metrics.TryGetProperty(name, out var value) ? value.GetDouble() : throw new ShouldAssertException($"no metric {name} in {window}");

            Metric("rows").ShouldBe(300);
            Metric("quality.credit_score.max").ShouldBe(5 / 300.0, 1e-12);
            Metric("quality.violation_rate").ShouldBe(5 / 300.0, 1e-12);
            Metric("quality.failed").ShouldBe(1);
            Metric("quality.flagged_rate").ShouldBe(BatchRows / 300.0, 1e-12, "the first request (50 rows) was flagged at serving");

            Metric("estimated.calibrated").ShouldBeOneOf(0, 1);
            foreach (var name in new[] { "estimated.accuracy", "estimated.precision", "estimated.recall", "estimated.specificity", "estimated.f1", "estimated.roc_auc" })
            {
                Metric(name).ShouldBeInRange(0, 1);
            }

            // normalize_confusion_matrix: true, each true class's expected rows spread over its two cells; the true
            // positives over the expected positives are the recall.
            (Metric("estimated.true_positive") + Metric("estimated.false_negative")).ShouldBe(1, 1e-12);
            (Metric("estimated.true_negative") + Metric("estimated.false_positive")).ShouldBe(1, 1e-12);
            Metric("estimated.true_positive").ShouldBe(Metric("estimated.recall"), 1e-12);
            Metric("estimated.true_negative").ShouldBe(Metric("estimated.specificity"), 1e-12);
            Metric("estimated.true_positive.sampling_error").ShouldBeGreaterThan(0);

            var selection = shiftedRows.Select(row => row.Region).Distinct().Select(region => Metric($"fairness.group.{region}.selection_rate")).ToList();
            selection.Count.ShouldBe(4);
            Metric("fairness.demographic_parity_difference").ShouldBe(selection.Max() - selection.Min(), 1e-12);
            Metric("fairness.equal_opportunity_difference").ShouldBeInRange(0, 1);
            Metric("fairness.equalized_odds_difference").ShouldBeGreaterThanOrEqualTo(Metric("fairness.equal_opportunity_difference"));

            (await client.GetStringAsync("/metrics", Cancel)).ShouldContain("ballast_monitor_metric{monitor=\"loans-watch\",metric=\"estimated.accuracy\"}");

            // The dataset reference scored by the served model gives what the same rows' traffic and feedback give.
            using var scored = await client.PostAsync("/api/v1/monitors/loans-dataset/evaluate", null, Cancel);
            var fromDataset = await scored.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            fromDataset.GetProperty("rows").GetInt64().ShouldBe(300, fromDataset.ToString());
            var datasetMetrics = fromDataset.GetProperty("metrics");
            fromDataset.GetProperty("message").GetString().ShouldBe("no prediction drift: the reference (loans-reference@1 reference.csv) has no column 'PredictedLabel'",
                "nothing about the estimate: the reference was scored, calibrated and gave sampling errors");
            foreach (var name in new[] { "estimated.calibrated", "estimated.accuracy", "estimated.accuracy.sampling_error", "estimated.roc_auc.sampling_error",
                "estimated.true_positive", "estimated.true_positive.sampling_error" })
            {
                datasetMetrics.GetProperty(name).GetDouble().ShouldBe(Metric(name), 1e-9, name);
            }

            // A second monitor on the same dataset reads the reference file and its scores from <data-dir>/cache/references.
            var again = await (await client.PostAsync("/api/v1/monitors/loans-dataset-again/evaluate", null, Cancel)).Content.ReadFromJsonAsync<JsonElement>(Cancel);
            foreach (var name in new[] { "estimated.accuracy", "estimated.accuracy.sampling_error", "estimated.true_positive" })
            {
                again.GetProperty("metrics").GetProperty(name).GetDouble().ShouldBe(datasetMetrics.GetProperty(name).GetDouble(), 1e-12, name);
            }

            var cached = Directory.GetFiles(Path.Combine(server.DataDir, "cache", "references")).Select(path => Path.GetFileName(path)!).ToList();
            cached.ShouldContain($"blob-{sha}.csv");
            cached.Count(name => name.StartsWith("scores-", StringComparison.Ordinal)).ShouldBe(1, string.Join(", ", cached));
            var lines = (await client.GetStringAsync("/metrics", Cancel)).Split('\n').Where(line => line.StartsWith("ballast_monitor_reference_cache_", StringComparison.Ordinal)).ToList();
            lines.ShouldContain(line => line.StartsWith("ballast_monitor_reference_cache_hits_total{kind=\"scores\"} ", StringComparison.Ordinal), string.Join("; ", lines));
            lines.ShouldContain(line => line.StartsWith("ballast_monitor_reference_cache_misses_total{kind=\"blob\"} ", StringComparison.Ordinal), string.Join("; ", lines));
            // And the reference's columns parsed by the first monitor's window, from memory.
            lines.ShouldContain(line => line.StartsWith("ballast_monitor_reference_cache_hits_total{kind=\"profile\"} ", StringComparison.Ordinal), string.Join("; ", lines));

            // Without the model's probabilities and not scored, no estimate at all (NannyML's CBPE refuses such a reference), and the message says why.
            var unscored = await (await client.PostAsync("/api/v1/monitors/loans-labels/evaluate", null, Cancel)).Content.ReadFromJsonAsync<JsonElement>(Cancel);
            unscored.GetProperty("status").GetString().ShouldBe("ok", unscored.ToString());
            unscored.GetProperty("metrics").EnumerateObject().ShouldNotContain(metric => metric.Name.StartsWith("estimated.", StringComparison.Ordinal), unscored.ToString());
            unscored.GetProperty("message").GetString()!.ShouldContain(
                "no estimated performance: the reference (loans-labels@2 labels.csv) has no column 'Probability' with the model's probabilities and the endpoint's models " +
                "could not score it: variant 'main' (models:/loans/1) could not score the reference: the reference (loans-labels@2 labels.csv) has no column '");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
