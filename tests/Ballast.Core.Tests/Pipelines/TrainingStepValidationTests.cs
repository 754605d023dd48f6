using System.Text.Json.Nodes;
using Ballast.Pipelines.Steps;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Pipelines;

/// <summary>The built-in training steps check their inputs as written and name every problem at once.</summary>
public sealed class TrainingStepValidationTests
{
    // Validate reads only the inputs; the stores a step runs against are not touched.
    private static readonly IngestStep Ingest = new(null!, null!, new FakeTimeProvider());
    private static readonly ValidateDataStep Validate = new();
    private static readonly SplitStep Split = new();
    private static readonly TrainStep Train = new(null!, null!);
    private static readonly EvaluateStep Evaluate = new(null!, null!);
    private static readonly GateStep Gate = new(new FakeTimeProvider());

    private static JsonObject Json(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void Well_formed_inputs_and_references_have_no_problems()
    {
        Ingest.Validate(Json("""{"dataset": "loans@2", "min_rows": 10}""")).ShouldBeEmpty();
        Ingest.Validate(Json("""{"path": "/data/loans.csv", "register_as": "loans"}""")).ShouldBeEmpty();
        Ingest.Validate(Json("""{"endpoint": "loans", "from": "${{ params.from }}", "to": "2026-01-02T00:00:00Z", "label": "defaulted", "feature_names": {"features": ["a", "b"]}}""")).ShouldBeEmpty();
        Validate.Validate(Json("""{"data": "${{ steps.ingest.outputs.data }}", "expectations": {"columns": {"income": {"type": "number", "min": 0}}}, "fail_on_violation": false}""")).ShouldBeEmpty();
        Split.Validate(Json("""{"data": "${{ steps.ingest.outputs.data }}", "train_fraction": 0.6, "validation_fraction": 0.2, "seed": 7, "stratify_by": "defaulted"}""")).ShouldBeEmpty();
        Train.Validate(Json("""{"train": "${{ steps.split.outputs.train }}", "label": "defaulted", "trainer": "lightgbm", "hyperparameters": {"num_trees": 20, "l2": 0.1}, "exclude": ["application_id"], "seed": 3}""")).ShouldBeEmpty();
        Evaluate.Validate(Json("""{"model": "${{ steps.train.outputs.model }}", "data": "${{ steps.split.outputs.holdout }}", "label": "defaulted", "segment": "region", "champion": "models:/loans@champion"}""")).ShouldBeEmpty();
        Gate.Validate(Json("""{"candidate": "${{ steps.evaluate.outputs.metrics }}", "champion": "${{ steps.evaluate.outputs.champion_metrics }}", "metrics": [{"metric": "auc", "min": 0.7, "must_improve": true, "min_improvement": 0.005}], "max_size_bytes": 1000000}""")).ShouldBeEmpty();
    }

    [Fact]
    public void Ingest_names_every_problem()
    {
        Ingest.Validate(Json("{}")).ShouldBe(["give one source: with.dataset (NAME or NAME@VERSION), with.path (a file, folder or URI), with.endpoint (a prediction-log window with feedback) or with.feature_service (a training set, with entities)"]);
        Ingest.Validate(Json("""{"dataset": "loans@x", "path": "a.csv", "min_rows": 0, "colour": "red"}""")).ShouldBe([
            "with.colour is not an input of ingest steps (they take dataset, table, path, register_as, endpoint, from, to, label, feature_names, min_rows, feature_service, entities, timestamp_column)",
            "give one source, not with.dataset and with.path",
            "with.min_rows must be at least 1, not 0",
            "with.dataset: 'x' in 'loans@x' is not a version: use a positive number or 'latest'.",
        ]);
        Ingest.Validate(Json("""{"endpoint": "loans", "from": "yesterday", "feature_names": ["a"]}""")).ShouldBe([
            "with.label (the column the feedback outcome becomes) is required",
            "with.from must be Unix milliseconds or an ISO 8601 time, not \"yesterday\"",
            "with.feature_names must map input tensors to lists of column names ({\"features\": [\"age\", \"income\"]}), not [\"a\"]",
        ]);
        Ingest.Validate(Json("""{"dataset": "loans", "register_as": "x", "label": "y", "table": "a.csv"}""")).ShouldBe([
            "with.register_as is for with.path, with.endpoint and with.feature_service; a dataset is already registered",
            "with.label is for with.endpoint (a prediction-log window); it is not used with other sources",
        ]);
        Ingest.Validate(Json("""{"feature_service": "churn_v1", "entities": "labels@0", "from": 0}""")).ShouldBe([
            "with.entities: '0' in 'labels@0' is not a version: use a positive number or 'latest'.",
            "with.from is for with.endpoint (a prediction-log window); it is not used with other sources",
        ]);
        Ingest.Validate(Json("""{"feature_service": "churn_v1", "entities": 3, "timestamp_column": 7}""")).ShouldBe([
            "with.timestamp_column must be text, not 7",
            "with.entities must be a dataset NAME[@VERSION], a path, an s3:// URI or a file output, not 3",
        ]);
        Ingest.Validate(Json("""{"dataset": "loans", "entities": "labels", "timestamp_column": "t"}""")).ShouldBe([
            "with.entities is for with.feature_service (a training set); it is not used with other sources",
            "with.timestamp_column is for with.feature_service (a training set); it is not used with other sources",
        ]);
        foreach (var valid in new[] { "labels", "labels@2", "s3://bucket/labels.csv", "mlflow-artifacts:/a/labels.csv", "${{ steps.prep.outputs.data }}" })
        {
            Ingest.Validate(Json($$"""{"feature_service": "churn_v1", "entities": "{{valid}}", "register_as": "churn-train"}""")).ShouldBeEmpty(valid);
        }

        foreach (var (entities, reads) in new[] { ("/data/labels.csv", true), ("s3://bucket/labels.csv", true), ("${{ params.entities }}", true), ("labels@2", false),
                     ("mlflow-artifacts:/a/labels.csv", false), ("${{ steps.prep.outputs.data }}", false) })
        {
            IngestStep.ReadsServerFiles(Json($$"""{"feature_service": "churn_v1", "entities": "{{entities}}"}""")).ShouldBe(reads, entities);
        }

        IngestStep.ReadsServerFiles(Json("""{"path": "/data/loans.csv"}""")).ShouldBeTrue();
    }

    [Fact]
    public void Validate_names_every_problem()
    {
        Validate.Validate(Json("""{"fail_on_violation": "maybe"}""")).ShouldBe([
            "with.data (a CSV or Parquet file output) is required",
            "with.expectations (the suite inline, or a file output, path or URI of a YAML/JSON suite) is required",
            "with.fail_on_violation must be true or false, not \"maybe\"",
        ]);
        Validate.Validate(Json("""{"data": "a.csv", "expectations": 3}""")).ShouldBe(["with.expectations must be a suite object or a file, not 3"]);
        Validate.Validate(Json("""{"data": "a.csv", "expectations": {"columns": {"age": {"min": "old"}}}}""")).ShouldNotBeEmpty();
    }

    [Fact]
    public void Split_names_every_problem()
    {
        Split.Validate(Json("""{"train_fraction": 0.9, "validation_fraction": 0.2, "seed": 1.5, "stratify_by": "y", "time_column": "t"}""")).ShouldBe([
            "with.data (a CSV or Parquet file output) is required",
            "with.seed must be a whole number, not 1.5",
            "with.stratify_by and with.time_column cannot be combined: a time split orders rows by time alone",
            "with.train_fraction + with.validation_fraction must leave a holdout (below 1), not 1.1",
        ]);
        Split.Validate(Json("""{"data": "a.csv", "train_fraction": 0}""")).ShouldBe(["with.train_fraction must be above 0 and at most 1, not 0"]);
    }

    [Fact]
    public void Train_names_every_problem_including_the_libraries()
    {
        Train.Validate(Json("""{"task": "ranking", "trainer": "xgboost", "hyperparameters": {"num_trees": "many"}, "exclude": "id"}""")).ShouldBe([
            "with.train (the training file output) is required",
            "with.label (the label column) is required",
            "with.task 'ranking' is not one of binary, multiclass, regression",
            "with.trainer 'xgboost' is not one of fasttree, lightgbm, sdca, logistic_regression",
            "with.exclude must be a list of column names, not \"id\"",
            "with.hyperparameters.num_trees must be a number, not \"many\"",
        ]);
        Train.Validate(Json("""{"train": "t.csv", "label": "y", "task": "regression", "trainer": "logistic_regression", "hyperparameters": {"num_trees": 10}}""")).ShouldBe([
            "with.trainer logistic_regression classifies; for regression use sdca, fasttree or lightgbm",
            "with.hyperparameter 'num_trees' is not one logistic_regression takes (l1, l2, max_iterations)",
        ]);
    }

    [Fact]
    public void Evaluate_names_every_problem()
    {
        Evaluate.Validate(Json("""{"task": "binary", "champion": "loans@champion", "calibration_bins": 0}""")).ShouldBe([
            "with.model (a model.zip file output, runs:/RUN/model, models:/NAME/VERSION or models:/NAME@ALIAS) is required",
            "with.data (the holdout file output) is required",
            "with.label (the label column) is required",
            "with.calibration_bins must be at least 1 and at most 1000, not 0",
            "with.champion must be models:/NAME@ALIAS or models:/NAME/VERSION, not 'loans@champion'",
        ]);
    }

    [Fact]
    public void Gate_names_every_problem_including_the_gate_specs()
    {
        Gate.Validate(Json("{}")).ShouldBe([
            "with.candidate (the candidate's metrics, e.g. ${{ steps.evaluate.outputs.metrics }}) is required",
            "the gate checks nothing: give with.metrics, with.max_latency_ms or with.max_size_bytes",
        ]);
        Gate.Validate(Json("""{"candidate": {}, "max_latency_ms": 5, "fail_on_reject": 1, "metrics": [{"metric": "auc", "minimum": 0.7}]}""")).ShouldBe([
            "with.fail_on_reject must be true or false, not 1",
            "with.max_latency_ms needs with.model and with.sample (a file of rows to score) to measure the latency",
            "with.metrics[0].minimum is not a gate field (metric, min, max, must_improve, min_improvement, min_relative_improvement, direction)",
        ]);
        Gate.Validate(Json("""{"candidate": {}, "metrics": [{"metric": "auc", "min": 0.9, "max": 0.8}, {"metric": "log_loss", "direction": "down"}]}""")).ShouldBe([
            "with.metrics[0] (auc).min (0.9) is above max (0.8)",
            "with.metrics[1] (log_loss).direction must be higher_is_better or lower_is_better, not 'down'",
            "with.metrics[1] (log_loss) checks nothing: give min, max, must_improve, min_improvement or min_relative_improvement",
        ]);
    }
}
