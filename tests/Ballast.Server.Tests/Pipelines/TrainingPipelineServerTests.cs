using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Ballast.Datasets;
using Ballast.Metadata;
using Ballast.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Pipelines;

/// <summary>The built-in training steps end to end over HTTP on a real server: the retraining loop with its champion gate, caching, and ingesting the prediction log.</summary>
public abstract class TrainingPipelineServerTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    private const string Gated = """
        [{"metric": "auc", "min": 0.6, "must_improve": true}, {"metric": "log_loss", "max": 1.0}]
        """;

    /// <summary>A dataset version of seeded synthetic loans, added through the server's own dataset store.</summary>
    private static async Task<string> AddLoansAsync(RunningServer server, string name, int rows, int seed)
    {
        var folder = Directory.CreateTempSubdirectory("ballast-loans-").FullName;
        var path = Path.Combine(folder, "loans.csv");
        SyntheticLoans.WriteCsv(path, SyntheticLoans.Generate(rows, seed));
        var bytes = await File.ReadAllBytesAsync(path, Cancel);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var store = server.App.Services.GetRequiredService<DatasetStore>();
        using (var stream = new MemoryStream(bytes))
        {
            await store.PutBlobAsync(sha256, stream, Cancel);
        }

        var added = await store.AddVersionAsync(name, [new DatasetFile("loans.csv", bytes.Length, sha256)], cancellationToken: Cancel);
        Directory.Delete(folder, recursive: true);
        return added.Version.Reference;
    }

    private static object[] RetrainingSteps(string ingest) =>
    [
        new { name = "ingest", kind = "ingest", with = JsonDocument.Parse(ingest).RootElement },
        new { name = "split", kind = "split", with = new { data = "${{ steps.ingest.outputs.data }}", stratify_by = "defaulted", seed = 7 } },
        new { name = "train", kind = "train", with = new { train = "${{ steps.split.outputs.train }}", validation = "${{ steps.split.outputs.validation }}", label = "defaulted",
            trainer = "fasttree", hyperparameters = new { num_trees = 10, num_leaves = 8 }, exclude = new[] { "application_id" }, seed = 3 } },
        new { name = "evaluate", kind = "evaluate", with = new { model = "${{ steps.train.outputs.model }}", data = "${{ steps.split.outputs.holdout }}", label = "defaulted",
            segment = "region", champion = "models:/loans@champion" } },
        new { name = "gate", kind = "gate", with = new { candidate = "${{ steps.evaluate.outputs.metrics }}", champion = "${{ steps.evaluate.outputs.champion_metrics }}",
            metrics = JsonDocument.Parse(Gated).RootElement, max_size_bytes = 50_000_000, model = "${{ steps.train.outputs.model }}" } },
        new { name = "register", kind = "register", with = new { model = "${{ steps.train.outputs.model }}", name = "loans", alias = "challenger", run_id = "${{ steps.train.outputs.run_id }}" }, needs = new[] { "gate" } },
        new { name = "promote", kind = "promote", with = new { model = "${{ steps.register.outputs.model }}" } },
    ];

    private static async Task<JsonElement> RunAsync(HttpClient client, string pipeline)
    {
        using var started = await client.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { }, Cancel);
        started.StatusCode.ShouldBe(HttpStatusCode.Created, await started.Content.ReadAsStringAsync(Cancel));
        return await PipelineServerTests.WaitForRunAsync(client, (await started.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("run_id").GetString()!, "succeeded", "failed");
    }

    private static Dictionary<string, JsonElement> Steps(JsonElement run) => run.GetProperty("steps").EnumerateArray().ToDictionary(step => step.GetProperty("step").GetString()!);

    [Fact]
    public async Task Ingest_reads_an_s3_object_or_prefix_with_the_servers_s3_settings()
    {
        var bucket = "ballast-ingest-" + Guid.NewGuid().ToString("N")[..12];
        using var s3 = new Amazon.S3.AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials("test", "test"),
            new Amazon.S3.AmazonS3Config { ServiceURL = TestServices.S3Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        await s3.PutBucketAsync(bucket, Cancel);
        var csv = Path.Combine(Directory.CreateTempSubdirectory("ballast-s3-loans-").FullName, "loans.csv");
        SyntheticLoans.WriteCsv(csv, SyntheticLoans.Generate(120, seed: 5));
        await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = "raw/2026-12/loans.csv", FilePath = csv }, Cancel);
        try
        {
            await using var server = await StartServerAsync(options => options with { S3Endpoint = TestServices.S3Endpoint, S3Region = "us-east-1" });
            using var client = server.Client();
            object[] Ingest(string path) => [new { name = "ingest", kind = "ingest", with = new { path, register_as = "loans-s3", min_rows = 100 } }];

            foreach (var (pipeline, path) in new[] { ("from-object", $"s3://{bucket}/raw/2026-12/loans.csv"), ("from-prefix", $"s3://{bucket}/raw") })
            {
                using (var put = await client.PutAsJsonAsync($"/api/v1/pipelines/{pipeline}", new { steps = Ingest(path) }, Cancel))
                {
                    put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
                }

                var run = await RunAsync(client, pipeline);
                run.GetProperty("status").GetString().ShouldBe("succeeded", run.ToString());
                var outputs = Steps(run)["ingest"].GetProperty("outputs");
                outputs.GetProperty("rows").GetInt64().ShouldBe(120);
                outputs.GetProperty("dataset").GetString().ShouldStartWith("loans-s3@");
            }

            // The object alone is the version's loans.csv; under its prefix it keeps its path below the prefix.
            var versions = (await client.GetFromJsonAsync<JsonElement>("/api/v1/datasets/loans-s3/versions", Cancel)).GetProperty("versions");
            versions.GetArrayLength().ShouldBe(2);

            using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/missing", new { steps = Ingest($"s3://{bucket}/nothing-here") }, Cancel))
            {
                put.EnsureSuccessStatusCode();
            }

            var failed = await RunAsync(client, "missing");
            failed.GetProperty("status").GetString().ShouldBe("failed");
            Steps(failed)["ingest"].GetProperty("error").GetString()!.ShouldContain($"there is no object at or under s3://{bucket}/nothing-here");
        }
        finally
        {
            foreach (var item in (await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket }, Cancel)).S3Objects ?? [])
            {
                await s3.DeleteObjectAsync(bucket, item.Key, Cancel);
            }

            await s3.DeleteBucketAsync(bucket, Cancel);
        }
    }

    [Fact]
    public async Task The_retraining_loop_registers_the_first_model_and_the_gate_stops_an_equal_one()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var dataset = await AddLoansAsync(server, "loans-data", 1200, seed: 11);
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/retrain-loans", new { steps = RetrainingSteps($$"""{"dataset": "{{dataset}}"}""") }, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
        }

        // First run: no champion, so only the absolute bounds apply; v1 is registered as challenger and promoted.
        var first = await RunAsync(client, "retrain-loans");
        first.GetProperty("status").GetString().ShouldBe("succeeded", first.ToString());
        var steps = Steps(first);
        var ingest = steps["ingest"].GetProperty("outputs");
        ingest.GetProperty("rows").GetInt64().ShouldBe(1200);
        ingest.GetProperty("dataset").GetString().ShouldBe(dataset);
        var split = steps["split"].GetProperty("outputs");
        (split.GetProperty("train_rows").GetInt64() + split.GetProperty("validation_rows").GetInt64() + split.GetProperty("holdout_rows").GetInt64()).ShouldBe(1200);
        var train = steps["train"].GetProperty("outputs");
        train.GetProperty("model").GetProperty("name").GetString().ShouldBe("model.zip");
        train.GetProperty("model_uri").GetString().ShouldBe($"runs:/{steps["train"].GetProperty("tracking_run_id").GetString()}/model");
        train.GetProperty("size_bytes").GetInt64().ShouldBeGreaterThan(0);
        var evaluate = steps["evaluate"].GetProperty("outputs");
        var auc = evaluate.GetProperty("auc").GetDouble();
        auc.ShouldBeGreaterThan(0.6);
        evaluate.GetProperty("metrics").GetProperty("auc").GetDouble().ShouldBe(auc);
        evaluate.GetProperty("champion_metrics").ValueKind.ShouldBe(JsonValueKind.Null);
        evaluate.GetProperty("report").GetProperty("name").GetString().ShouldBe("evaluation.json");
        var gate = steps["gate"].GetProperty("outputs");
        gate.GetProperty("passed").GetBoolean().ShouldBeTrue();
        gate.GetProperty("decision").GetProperty("checks").EnumerateArray().Select(check => (check.GetProperty("kind").GetString(), check.GetProperty("metric").GetString(), check.GetProperty("outcome").GetString()))
            .ShouldBe([("min", "auc", "passed"), ("change", "auc", "skipped"), ("max", "log_loss", "passed"), ("guardrail", "model_size_bytes", "passed")]);
        steps["register"].GetProperty("outputs").GetProperty("uri").GetString().ShouldBe("models:/loans/1");
        (await client.GetFromJsonAsync<JsonElement>("/api/2.0/mlflow/registered-models/alias?name=loans&alias=champion", Cancel))
            .GetProperty("model_version").GetProperty("version").GetString().ShouldBe("1");

        // The version links to the training run, so its model card shows how it was trained.
        var card = await client.GetFromJsonAsync<JsonElement>("/api/v1/models/loans/versions/1/card", Cancel);
        card.GetProperty("run_id").GetString().ShouldBe(steps["train"].GetProperty("tracking_run_id").GetString());
        card.GetProperty("params").GetProperty("trainer").GetString().ShouldBe("fasttree");

        // The train step's MLflow run has the trainer's params, its metrics and the model folder as artifacts.
        var trainRun = (await client.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow/runs/get?run_id={steps["train"].GetProperty("tracking_run_id").GetString()}", Cancel)).GetProperty("run");
        var parameters = trainRun.GetProperty("data").GetProperty("params").EnumerateArray().ToDictionary(p => p.GetProperty("key").GetString()!, p => p.GetProperty("value").GetString());
        parameters["trainer"].ShouldBe("fasttree");
        parameters["num_trees"].ShouldBe("10");
        var metricNames = trainRun.GetProperty("data").GetProperty("metrics").EnumerateArray().Select(m => m.GetProperty("key").GetString()).ToList();
        metricNames.ShouldContain("training_auc");
        metricNames.ShouldContain("validation_auc");
        var artifacts = await client.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow/artifacts/list?run_id={steps["train"].GetProperty("tracking_run_id").GetString()}&path=model", Cancel);
        artifacts.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()).ShouldBe(["model/MLmodel", "model/model.zip"], ignoreOrder: true);

        // Second run on the same data: split and train are reused, evaluate sees the new champion (the same model), and
        // the gate rejects an equal candidate (auc must improve), so nothing is registered.
        var second = await RunAsync(client, "retrain-loans");
        second.GetProperty("status").GetString().ShouldBe("failed", second.ToString());
        var again = Steps(second);
        again["ingest"].GetProperty("status").GetString().ShouldBe("cached");
        again["split"].GetProperty("status").GetString().ShouldBe("cached");
        again["train"].GetProperty("status").GetString().ShouldBe("cached");
        again["evaluate"].GetProperty("status").GetString().ShouldBe("succeeded");
        again["evaluate"].GetProperty("outputs").GetProperty("champion_version").GetString().ShouldBe("1");
        again["evaluate"].GetProperty("outputs").GetProperty("champion_metrics").GetProperty("auc").GetDouble().ShouldBe(auc, 1e-9);
        again["gate"].GetProperty("status").GetString().ShouldBe("failed");
        again["gate"].GetProperty("error").GetString()!.ShouldStartWith("the gate rejected the candidate: failed 1 of 4 checks: auc ");
        again["gate"].GetProperty("error").GetString()!.ShouldContain("does not improve on the champion");
        again.ContainsKey("register").ShouldBeTrue();
        again["register"].GetProperty("status").GetString().ShouldNotBe("succeeded");
        var versions = await client.GetFromJsonAsync<JsonElement>("/api/2.0/mlflow/registered-models/get?name=loans", Cancel);
        versions.GetProperty("registered_model").GetProperty("latest_versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()).ShouldBe(["1"]);
        var logs = await client.GetStringAsync($"/api/v1/pipeline-runs/{second.GetProperty("run_id").GetString()}/logs?step=gate", Cancel);
        logs.ShouldContain("does not improve on the champion");
    }

    [Fact]
    public async Task Ingest_registers_a_path_validate_stops_bad_data_and_a_non_failing_gate_reports_its_decision()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var folder = Directory.CreateTempSubdirectory("ballast-ingest-").FullName;
        var path = Path.Combine(folder, "loans.csv");
        SyntheticLoans.WriteCsv(path, SyntheticLoans.Generate(400, seed: 21));
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/checks", new
        {
            steps = new object[]
            {
                new { name = "ingest", kind = "ingest", with = new { path, register_as = "loans-files" }, cache = false },
                new { name = "validate", kind = "validate", with = new { data = "${{ steps.ingest.outputs.data }}", fail_on_violation = false,
                    expectations = new { columns = new { credit_score = new { max = 700 } } } } },
                new { name = "split", kind = "split", with = new { data = "${{ steps.ingest.outputs.data }}", validation_fraction = 0, time_column = "applied_at" } },
                new { name = "train", kind = "train", with = new { train = "${{ steps.split.outputs.train }}", label = "defaulted", trainer = "logistic_regression", exclude = new[] { "application_id" } } },
                new { name = "evaluate", kind = "evaluate", with = new { model = "${{ steps.train.outputs.model_uri }}", data = "${{ steps.split.outputs.holdout }}", label = "defaulted" } },
                new { name = "gate", kind = "gate", with = new { candidate = "${{ steps.evaluate.outputs.metrics }}", metrics = new object[] { new { metric = "auc", min = 0.999 }, new { metric = "brier" , max = 0.1 } },
                    max_latency_ms = 60_000, model = "${{ steps.train.outputs.model }}", sample = "${{ steps.split.outputs.holdout }}", fail_on_reject = false } },
            },
        }, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
        }

        var run = await RunAsync(client, "checks");
        run.GetProperty("status").GetString().ShouldBe("succeeded", run.ToString());
        var steps = Steps(run);
        steps["ingest"].GetProperty("outputs").GetProperty("dataset").GetString().ShouldBe("loans-files@1");
        steps["ingest"].GetProperty("outputs").GetProperty("rows").GetInt64().ShouldBe(400);
        var validate = steps["validate"].GetProperty("outputs");
        validate.GetProperty("success").GetBoolean().ShouldBeFalse();
        validate.GetProperty("failed").GetInt32().ShouldBe(1);
        steps["split"].GetProperty("outputs").GetProperty("validation").ValueKind.ShouldBe(JsonValueKind.Null);
        steps["split"].GetProperty("outputs").GetProperty("train_rows").GetInt64().ShouldBe(280);
        var gate = steps["gate"].GetProperty("outputs");
        gate.GetProperty("passed").GetBoolean().ShouldBeFalse();
        gate.GetProperty("summary").GetString()!.ShouldStartWith("failed 2 of 3 checks: auc = ");
        gate.GetProperty("summary").GetString()!.ShouldContain("brier is missing from the candidate's metrics");
        var latency = gate.GetProperty("decision").GetProperty("checks").EnumerateArray().Single(check => check.GetProperty("metric").GetString() == "latency_ms");
        latency.GetProperty("outcome").GetString().ShouldBe("passed");

        // Ingest runs again (cache: false) and gives the same bytes: the steps after it are reused, by content.
        var again = await RunAsync(client, "checks");
        Steps(again).Select(pair => (pair.Key, pair.Value.GetProperty("status").GetString())).ShouldBe(
            [("ingest", "succeeded"), ("validate", "cached"), ("split", "cached"), ("train", "cached"), ("evaluate", "cached"), ("gate", "cached")], ignoreOrder: true);
        Steps(again)["ingest"].GetProperty("outputs").GetProperty("dataset").GetString().ShouldBe("loans-files@1");

        // With violations failing the step (the default), the run stops at validate and names what failed.
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/strict", new
        {
            steps = new object[]
            {
                new { name = "ingest", kind = "ingest", with = new { path } },
                new { name = "validate", kind = "validate", with = new { data = "${{ steps.ingest.outputs.data }}", expectations = new { columns = new { credit_score = new { max = 700 } } } } },
            },
        }, Cancel))
        {
            put.EnsureSuccessStatusCode();
        }

        var strict = await RunAsync(client, "strict");
        strict.GetProperty("status").GetString().ShouldBe("failed");
        Steps(strict)["validate"].GetProperty("error").GetString()!.ShouldMatch(@"^1 expectation\(s\) failed on 400 rows: credit_score\.max \(\d+ rows\)$");
        Steps(strict)["ingest"].GetProperty("outputs").GetProperty("dataset").ValueKind.ShouldBe(JsonValueKind.Null);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task The_documented_retraining_template_is_a_valid_pipeline()
    {
        var docs = Ballast.Tests.Deploy.DeployFiles.Read("docs/pipelines.md");
        var section = docs[docs.IndexOf("## Retraining template", StringComparison.Ordinal)..];
        var start = section.IndexOf("```yaml\n", StringComparison.Ordinal) + "```yaml\n".Length;
        var yaml = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];
        var manifest = Ballast.Cli.Manifests.ManifestYaml.Read(yaml).Single().Content!.AsObject();
        manifest["kind"]!.GetValue<string>().ShouldBe("Pipeline");
        manifest.Remove("kind");
        manifest.Remove("name");
        manifest["steps"]!.AsArray().Select(step => step!["kind"]!.GetValue<string>())
            .ShouldBe(["ingest", "validate", "split", "train", "evaluate", "gate", "register", "rollout", "promote"]);

        await using var server = await StartServerAsync();
        using var client = server.Client();
        using var put = await client.PutAsync("/api/v1/pipelines/loans-retrain", new StringContent(manifest.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), Cancel);
        put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task Ingest_builds_a_feature_services_training_set_that_reruns_when_a_feature_source_changes()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        await AddCsvAsync(server, "customer-stats", "stats.csv", "customer_id,event_time,orders\n1,2026-01-01 00:00:00,3\n2,2026-01-01 00:00:00,5\n3,2026-01-01 00:00:00,1\n");
        await AddCsvAsync(server, "churn-labels", "labels.csv",
            "customer_id,event_timestamp,churned\n1,2025-12-31 00:00:00,0\n1,2099-01-01 00:00:00,1\n2,2099-01-01 00:00:00,0\n3,2099-01-01 00:00:00,1\n");
        (await client.PostAsJsonAsync("/api/v1/kpis", new { name = "spend", value = 10.0, entity = "1" }, Cancel)).EnsureSuccessStatusCode();
        using (var set = await client.PutAsync("/api/v1/features/churn", new StringContent("""
            {"name": "churn", "entities": [{"name": "customer", "join_key": "customer_id", "type": "int64"}],
             "views": [{"name": "customer_stats", "entity": "customer", "source": {"dataset": "customer-stats"}, "timestamp": "event_time", "features": [{"name": "orders", "type": "int64"}]},
                       {"name": "recent_spend", "entity": "customer", "source": {"kpi": "spend"}, "features": [{"name": "spend", "type": "double"}]}],
             "services": [{"name": "churn_v1", "features": ["customer_stats:*", "recent_spend:*"]}]}
            """, System.Text.Encoding.UTF8, "application/json"), Cancel))
        {
            set.StatusCode.ShouldBe(HttpStatusCode.Created, await set.Content.ReadAsStringAsync(Cancel));
        }

        // The model file the register step records the service for: the Titanic fixture, uploaded as an artifact.
        using (var model = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("titanic_pipeline.onnx"), Cancel)))
        {
            (await client.PutAsync("/api/2.0/mlflow-artifacts/artifacts/fixtures/titanic.onnx", model, Cancel)).EnsureSuccessStatusCode();
        }

        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/churn-features", new
        {
            steps = new object[]
            {
                new { name = "ingest", kind = "ingest", with = new { feature_service = "churn_v1", entities = "churn-labels", min_rows = 3 } },
                new { name = "register", kind = "register", with = new { model = "mlflow-artifacts:/fixtures/titanic.onnx", name = "titanic", feature_service = "${{ steps.ingest.outputs.feature_service }}" } },
            },
        }, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
        }

        var first = await RunAsync(client, "churn-features");
        first.GetProperty("status").GetString().ShouldBe("succeeded", first.ToString());
        var ingest = Steps(first)["ingest"].GetProperty("outputs");
        (ingest.GetProperty("rows").GetInt64(), ingest.GetProperty("dataset").GetString(), ingest.GetProperty("feature_service").GetString()).ShouldBe((4L, "churn_v1-training-set@1", "churn_v1"));
        ingest.GetProperty("sources").EnumerateArray().Select(source => source.GetString()).ShouldBe(["customer-stats@1", "kpi:spend"]);
        var table = (await client.GetFromJsonAsync<JsonElement>("/api/v1/datasets/churn_v1-training-set/versions/1", Cancel)).GetProperty("profile").GetProperty("tables")[0];
        table.GetProperty("columns").EnumerateArray().Select(column => column.GetProperty("name").GetString()).ShouldBe(["customer_id", "event_timestamp", "churned", "orders", "spend"]);
        (await client.GetStringAsync("/api/v1/models/titanic/versions/1/card?format=markdown", Cancel)).ShouldContain("- **Feature service:** churn_v1");
        var version = await client.GetFromJsonAsync<JsonElement>("/api/2.0/mlflow/model-versions/get?name=titanic&version=1", Cancel);
        var signature = version.GetProperty("model_version").GetProperty("tags").EnumerateArray().Single(tag => tag.GetProperty("key").GetString() == "ballast.signature");
        JsonDocument.Parse(signature.GetProperty("value").GetString()!).RootElement.GetProperty("feature_service").GetString().ShouldBe("churn_v1");

        // Nothing changed: the training set is reused. A new KPI value (the stream changed) runs the step again.
        var second = await RunAsync(client, "churn-features");
        Steps(second)["ingest"].GetProperty("status").GetString().ShouldBe("cached", second.ToString());
        (await client.PostAsJsonAsync("/api/v1/kpis", new { name = "spend", value = 25.0, entity = "2" }, Cancel)).EnsureSuccessStatusCode();
        var third = await RunAsync(client, "churn-features");
        Steps(third)["ingest"].GetProperty("status").GetString().ShouldBe("succeeded", third.ToString());
        Steps(third)["ingest"].GetProperty("outputs").GetProperty("dataset").GetString().ShouldBe("churn_v1-training-set@2");

        // Entities that lack the join key fail the step and say so; an unknown service is refused by name.
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/bad-features", new
        {
            steps = new object[] { new { name = "ingest", kind = "ingest", with = new { feature_service = "churn_v1", entities = "customer-stats" } } },
        }, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
        }

        var bad = await RunAsync(client, "bad-features");
        Steps(bad)["ingest"].GetProperty("error").GetString()!.ShouldContain("feature service 'churn_v1' over dataset customer-stats@1: The entities file has no column 'event_timestamp'");
        using (var invalid = await client.PutAsJsonAsync("/api/v1/pipelines/invalid", new
        {
            steps = new object[] { new { name = "ingest", kind = "ingest", with = new { feature_service = "churn_v1", label = "churned" } } },
        }, Cancel))
        {
            invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var detail = (await invalid.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!;
            detail.ShouldContain("with.entities (the entity rows: a dataset NAME[@VERSION], a path, an s3:// URI or a file output) is required");
            detail.ShouldContain("with.label is for with.endpoint");
        }
    }

    [Fact]
    public async Task Ingest_reads_feature_service_entities_from_a_local_path_and_an_s3_object()
    {
        var bucket = "ballast-entities-" + Guid.NewGuid().ToString("N")[..12];
        using var s3 = new Amazon.S3.AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials("test", "test"),
            new Amazon.S3.AmazonS3Config { ServiceURL = TestServices.S3Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        await s3.PutBucketAsync(bucket, Cancel);
        const string Labels = "customer_id,label_time,churned\n1,2026-01-02 00:00:00,1\n2,2026-01-02 00:00:00,0\n3,2025-12-01 00:00:00,1\n";
        var local = Path.Combine(Directory.CreateTempSubdirectory("ballast-entities-").FullName, "labels.csv");
        await File.WriteAllTextAsync(local, Labels, Cancel);
        await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = "labels/2026-01.csv", ContentBody = Labels }, Cancel);
        try
        {
            await using var server = await StartServerAsync(options => options with { S3Endpoint = TestServices.S3Endpoint, S3Region = "us-east-1" });
            using var client = server.Client();
            await AddCsvAsync(server, "customer-stats", "stats.csv", "customer_id,event_time,orders\n1,2026-01-01 00:00:00,3\n2,2026-01-01 00:00:00,5\n3,2026-01-01 00:00:00,1\n");
            using (var set = await client.PutAsync("/api/v1/features/churn", new StringContent("""
                {"name": "churn", "entities": [{"name": "customer", "join_key": "customer_id", "type": "int64"}],
                 "views": [{"name": "customer_stats", "entity": "customer", "source": {"dataset": "customer-stats"}, "timestamp": "event_time", "features": [{"name": "orders", "type": "int64"}]}],
                 "services": [{"name": "churn_v1", "features": ["customer_stats:*"]}]}
                """, System.Text.Encoding.UTF8, "application/json"), Cancel))
            {
                set.StatusCode.ShouldBe(HttpStatusCode.Created, await set.Content.ReadAsStringAsync(Cancel));
            }

            foreach (var (pipeline, entities) in new[] { ("from-path", local), ("from-s3", $"s3://{bucket}/labels/2026-01.csv") })
            {
                using (var put = await client.PutAsJsonAsync($"/api/v1/pipelines/{pipeline}", new
                {
                    steps = new object[] { new { name = "ingest", kind = "ingest", with = new { feature_service = "churn_v1", entities, timestamp_column = "label_time", register_as = "churn-train", min_rows = 3 } } },
                }, Cancel))
                {
                    put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
                }

                var run = await RunAsync(client, pipeline);
                run.GetProperty("status").GetString().ShouldBe("succeeded", run.ToString());
                var outputs = Steps(run)["ingest"].GetProperty("outputs");
                (outputs.GetProperty("rows").GetInt64(), outputs.GetProperty("dataset").GetString()).ShouldBe((3L, "churn-train@1"), "the same rows from either place are the same version");
            }

            var table = (await client.GetFromJsonAsync<JsonElement>("/api/v1/datasets/churn-train/versions/1", Cancel)).GetProperty("profile").GetProperty("tables")[0];
            table.GetProperty("columns").EnumerateArray().Select(column => column.GetProperty("name").GetString()).ShouldBe(["customer_id", "label_time", "churned", "orders"]);
        }
        finally
        {
            foreach (var item in (await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket }, Cancel)).S3Objects ?? [])
            {
                await s3.DeleteObjectAsync(bucket, item.Key, Cancel);
            }

            await s3.DeleteBucketAsync(bucket, Cancel);
        }
    }

    private static async Task AddCsvAsync(RunningServer server, string name, string file, string csv)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(csv);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var store = server.App.Services.GetRequiredService<DatasetStore>();
        using (var stream = new MemoryStream(bytes))
        {
            await store.PutBlobAsync(sha256, stream, Cancel);
        }

        await store.AddVersionAsync(name, [new DatasetFile(file, bytes.Length, sha256)], cancellationToken: Cancel);
    }

    [Fact]
    public async Task Ingest_joins_the_prediction_log_with_feedback_into_a_training_table()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var dataset = await AddLoansAsync(server, "loans-data", 600, seed: 5);
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/first", new { steps = RetrainingSteps($$"""{"dataset": "{{dataset}}"}""")[..3] }, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
        }

        var trained = await RunAsync(client, "first");
        trained.GetProperty("status").GetString().ShouldBe("succeeded", trained.ToString());
        var model = Steps(trained)["train"].GetProperty("outputs").GetProperty("model_uri").GetString();
        using (var register = await client.PutAsJsonAsync("/api/v1/pipelines/register", new { steps = new object[] { new { name = "register", kind = "register", with = new { model = Steps(trained)["train"].GetProperty("outputs").GetProperty("model").GetProperty("uri").GetString(), name = "loans" } } } }, Cancel))
        {
            register.StatusCode.ShouldBe(HttpStatusCode.OK, await register.Content.ReadAsStringAsync(Cancel));
        }

        (await RunAsync(client, "register")).GetProperty("status").GetString().ShouldBe("succeeded");
        (await client.PutAsJsonAsync("/api/v1/endpoints/loans", new { variants = new[] { new { name = "main", model = "models:/loans/1" } } }, Cancel)).EnsureSuccessStatusCode();

        // 60 applications scored one by one; feedback (the real outcome) for the first 55 only.
        var applications = SyntheticLoans.Generate(60, seed: 9);
        var feedback = new List<object>();
        for (var i = 0; i < applications.Count; i++)
        {
            var a = applications[i];
            using var response = await client.PostAsJsonAsync("/endpoints/loans/invocations", new
            {
                dataframe_records = new[] { new { income = a.Income, debt_ratio = a.DebtRatio, credit_score = a.CreditScore, loan_amount = a.LoanAmount, years_employed = a.YearsEmployed, employment = a.Employment, purpose = a.Purpose, region = a.Region } },
            }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
            if (i < 55)
            {
                feedback.Add(new { prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single(), outcome = a.Defaulted });
            }
        }

        (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback }, Cancel)).EnsureSuccessStatusCode();
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/from-log", new
        {
            steps = new object[]
            {
                new { name = "ingest", kind = "ingest", with = new { endpoint = "loans", from = 0, label = "defaulted" } },
                new { name = "validate", kind = "validate", with = new { data = "${{ steps.ingest.outputs.data }}",
                    expectations = new { columns = new { income = new { type = "number", min = 0 }, defaulted = new { required = true } } } } },
            },
        }, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
        }

        var run = await RunAsync(client, "from-log");
        run.GetProperty("status").GetString().ShouldBe("succeeded", run.ToString());
        var outputs = Steps(run)["ingest"].GetProperty("outputs");
        outputs.GetProperty("rows").GetInt64().ShouldBe(55);
        outputs.GetProperty("dataset").GetString().ShouldBe("loans-feedback@1");
        Steps(run)["validate"].GetProperty("outputs").GetProperty("success").GetBoolean().ShouldBeTrue();

        // The registered version is the flat table: one column per input, and the label.
        var version = await client.GetFromJsonAsync<JsonElement>("/api/v1/datasets/loans-feedback/versions/1", Cancel);
        var table = version.GetProperty("profile").GetProperty("tables")[0];
        table.GetProperty("rows").GetInt64().ShouldBe(55);
        table.GetProperty("columns").EnumerateArray().Select(column => column.GetProperty("name").GetString()).ShouldBe(
            ["income", "debt_ratio", "credit_score", "loan_amount", "years_employed", "employment", "purpose", "region", "defaulted"], ignoreOrder: true);
        model.ShouldNotBeNull();

        // Too few rows fail the step with the reason.
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/too-few", new { steps = new object[] { new { name = "ingest", kind = "ingest", with = new { endpoint = "loans", from = 0, label = "defaulted", min_rows = 100 } } } }, Cancel))
        {
            put.EnsureSuccessStatusCode();
        }

        var few = await RunAsync(client, "too-few");
        Steps(few)["ingest"].GetProperty("error").GetString()!.ShouldEndWith("has 55 rows, fewer than min_rows (100): not enough to train on");

        // feature_names that do not fit the logged inputs fail the step, naming them (it registered columns named income[0]… instead).
        var misnamed = new { endpoint = "loans", from = 0, label = "defaulted", feature_names = new Dictionary<string, string[]> { ["income"] = ["income_a", "income_b"] } };
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/misnamed", new { steps = new object[] { new { name = "ingest", kind = "ingest", with = misnamed } } }, Cancel))
        {
            put.EnsureSuccessStatusCode();
        }

        // A label that is an input's name in another case: the same column to DuckDB, so refused, naming both.
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/cased", new { steps = new object[] { new { name = "ingest", kind = "ingest", with = new { endpoint = "loans", from = 0, label = "Income" } } } }, Cancel))
        {
            put.EnsureSuccessStatusCode();
        }

        Steps(await RunAsync(client, "cased"))["ingest"].GetProperty("error").GetString()!
            .ShouldEndWith("the label column 'Income' is also an input feature of loans ('income'; column names are compared without case); choose another name");

        var wrong = await RunAsync(client, "misnamed");
        Steps(wrong)["ingest"].GetProperty("error").GetString()!.ShouldEndWith("input 'feature_names' does not fit loans's logged inputs: 'income' has 1 value(s) a row, but feature_names gives it 2 name(s)");
    }
}

public sealed class SqliteTrainingPipelineServerTests() : TrainingPipelineServerTests(DatabaseEngine.Sqlite);

public sealed class PostgresTrainingPipelineServerTests() : TrainingPipelineServerTests(DatabaseEngine.Postgres);
