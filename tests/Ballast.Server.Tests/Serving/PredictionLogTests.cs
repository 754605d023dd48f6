using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ballast.Tests.Serving;

/// <summary>Every answered prediction is logged, survives a SIGKILL, and comes back with its feedback in an export.</summary>
public sealed class PredictionLogServerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Predictions_and_their_feedback_are_exported_as_csv_and_parquet()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using var client = server.Client();
        await ServeIrisAsync(client);

        var ids = new List<string>();
        var answered = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
            ids.Add(response.Headers.GetValues("Ballast-Prediction-Id").Single());
            answered.Add((await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("outputs").GetRawText());
        }

        using var invocation = await client.PostAsJsonAsync("/endpoints/iris/invocations", new { instances = new[] { new[] { 6.7, 3.0, 5.2, 2.3 } } }, Cancel);
        ids.Add(invocation.Headers.GetValues("Ballast-Prediction-Id").Single());

        (await (await client.PostAsJsonAsync("/api/v1/feedback", new { prediction_id = ids[0], outcome = 0 }, Cancel)).Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("accepted").GetInt32().ShouldBe(1);
        using (var batch = await client.PostAsJsonAsync("/api/v1/feedback", new { feedback = new object[] { new { prediction_id = ids[1], outcome = "setosa", reward = 1.0 }, new { prediction_id = ids[5], reward = 0.25 } } }, Cancel))
        {
            batch.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // Late and duplicate: the newer reward wins, the earlier outcome stays.
        await client.PostAsJsonAsync("/api/v1/feedback", new { prediction_id = ids[1], reward = 0.5 }, Cancel);
        using (var invalid = await client.PostAsJsonAsync("/api/v1/feedback", new { feedback = new object[] { new { prediction_id = "x" }, new { outcome = 1 } } }, Cancel))
        {
            invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await invalid.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
                .ShouldBe("Invalid feedback: item 0: give an outcome, a reward or both; item 1: prediction_id must be the Ballast-Prediction-Id of a response (1 to 64 characters).");
        }

        foreach (var (body, message) in new (string, string)[]
        {
            ($$$"""{"prediction_id":"{{{ids[2]}}}","outcome":{"label":1}}""", """outcome must be a number, a string, true or false, or a list of them (one per row), not {"label":1}."""),
            ($$"""{"prediction_id":"{{ids[2]}}","reward":1e400}""", "reward must be a number, not 1e400."),
        })
        {
            using var refused = await client.PostAsync("/api/v1/feedback", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Cancel);
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(message);
        }

        var csv = await client.GetStringAsync("/api/v1/predictions/export?endpoint=iris&format=csv", Cancel);
        var lines = csv.Trim().Split('\n');
        var header = lines[0].Split(',');
        header.ShouldBe(["prediction_id", "endpoint", "variant", "model", "timestamp", "latency_ms", "routing_key", "kind", "inputs", "outputs", "expectations", "instance", "sequence", "outcome", "reward", "feedback_at"]);
        lines.Length.ShouldBe(7);
        lines.Skip(1).Select(line => line.Split(',')[0]).ShouldBe(ids.Order(StringComparer.Ordinal), ignoreOrder: true);
        var second = lines.Single(line => line.StartsWith(ids[1], StringComparison.Ordinal));
        second.ShouldContain("setosa");
        second.ShouldContain(",0.5,");

        var file = Path.Combine(Path.GetTempPath(), $"ballast-export-test-{Guid.NewGuid():N}.parquet");
        try
        {
            var export = await CliProcess.RunAsync("predictions", "export", "--endpoint", "iris", "--from", DateTimeOffset.UtcNow.AddHours(-1).ToString("O"), "-o", file, "--url", url);
            export.ExitCode.ShouldBe(0, export.ToString());
            using var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
            duck.Open();
            using var command = duck.CreateCommand();
            command.CommandText = $"SELECT count(*), count(reward), max(reward) FROM read_parquet('{file}')";
            using var reader = command.ExecuteReader();
            reader.Read();
            (Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1)), reader.GetDouble(2)).ShouldBe((6L, 2L, 0.5));
            reader.Close();

            // Inputs and outputs are the V2 JSON tensors as text.
            command.CommandText = $"SELECT inputs, outputs FROM read_parquet('{file}') WHERE prediction_id = '{ids[0]}'";
            using var row = command.ExecuteReader();
            row.Read();
            var inputs = JsonDocument.Parse(row.GetString(0)).RootElement;
            inputs[0].GetProperty("name").GetString().ShouldBe("float_input");
            inputs[0].GetProperty("data").GetArrayLength().ShouldBe(4);
            // The outputs logged are those the caller got (the V2 route encodes them once for both).
            // (DuckDB's JSON type writes numbers its own way: 6.2900455e-8 for 6.2900455E-08, equal as values.)
            JsonElement.DeepEquals(JsonDocument.Parse(row.GetString(1)).RootElement, JsonDocument.Parse(answered[0]).RootElement).ShouldBeTrue($"{row.GetString(1)} against {answered[0]}");
            JsonDocument.Parse(row.GetString(1)).RootElement.EnumerateArray().Select(o => o.GetProperty("name").GetString()).ShouldContain("output_label");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Every_prediction_answered_before_a_sigkill_is_in_the_log_after_restart()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-sigkill-").FullName;
        try
        {
            var answered = new System.Collections.Concurrent.ConcurrentBag<string>();
            using (var first = await StartServerProcessAsync(dataDir))
            {
                using var client = new HttpClient { BaseAddress = first.Url };
                await ServeIrisAsync(client);
                using var stop = new CancellationTokenSource();
                var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        try
                        {
                            using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, stop.Token);
                            if (response.StatusCode == HttpStatusCode.OK)
                            {
                                answered.Add(response.Headers.GetValues("Ballast-Prediction-Id").Single());
                            }
                        }
                        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or IOException)
                        {
                            // The server is gone: this request got no answer.
                        }
                    }
                }, Cancel)).ToList();

                while (answered.Count < 600)
                {
                    await Task.Delay(20, Cancel);
                }

                first.Process.Kill(); // SIGKILL: no shutdown, no flush, no roll.
                await first.Process.WaitForExitAsync(Cancel);
                await stop.CancelAsync();
                await Task.WhenAll(load);
            }

            using var second = await StartServerProcessAsync(dataDir);
            using var again = new HttpClient { BaseAddress = second.Url };
            var csv = await again.GetStringAsync("/api/v1/predictions/export?endpoint=iris&format=csv", Cancel);
            var logged = csv.Trim().Split('\n').Skip(1).Select(line => line.Split(',')[0]).ToList();
            logged.Count.ShouldBe(logged.Distinct().Count(), "no record twice");
            answered.Except(logged).ShouldBeEmpty($"{answered.Count} answered, {logged.Count} logged");
            second.Process.Kill();
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task ServeIrisAsync(HttpClient client)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("logreg_iris.onnx"), Cancel));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "logreg_iris.onnx");
        (await client.PostAsync("/api/v1/models/iris/versions", form, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private sealed class ServerProcess(Process process, Uri url) : IDisposable
    {
        public Process Process { get; } = process;

        public Uri Url { get; } = url;

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }
    }

    private static async Task<ServerProcess> StartServerProcessAsync(string dataDir)
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        var port = ((IPEndPoint)socket.LocalEndpoint).Port;
        socket.Stop();
        var process = Process.Start(CliProcess.StartInfo(["server", "--data-dir", dataDir, "--listen", $"http://127.0.0.1:{port}"]))!;
        _ = process.StandardError.ReadToEndAsync(Cancel);
        string? line;
        do
        {
            line = await process.StandardOutput.ReadLineAsync(Cancel).AsTask().WaitAsync(TimeSpan.FromMinutes(1), Cancel);
        }
        while (line is not null && !line.StartsWith("Ballast ", StringComparison.Ordinal));

        _ = process.StandardOutput.ReadToEndAsync(Cancel);
        return line is null ? throw new InvalidOperationException("the server exited early") : new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"));
    }
}
