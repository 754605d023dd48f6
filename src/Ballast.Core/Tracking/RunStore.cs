using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Ballast.Metadata;
using Dapper;

namespace Ballast.Tracking;

/// <summary>
/// MLflow runs in the metadata database. A batch of metrics, params and tags is one transaction; params are
/// write-once (re-logging the same value is allowed, a different one is refused); the latest value of each metric
/// is kept beside the history, chosen as MLflow does by the greatest (step, timestamp, value).
/// </summary>
public sealed class RunStore(MetadataDatabase database, ExperimentStore experiments, TimeProvider time)
{
    public const string RunNameTag = "mlflow.runName";
    public const string UserTag = "mlflow.user";

    private const string InfoColumns = "run_uuid AS RunId, experiment_id AS ExperimentId, run_name AS RunName, user_id AS UserId, status AS Status, start_time AS StartTime, end_time AS EndTime, artifact_uri AS ArtifactUri, lifecycle_stage AS LifecycleStage";

    public async Task<Run> CreateAsync(string experimentId, string? userId = null, string? runName = null, long? startTime = null, IReadOnlyList<TrackingTag>? tags = null, CancellationToken cancellationToken = default)
    {
        var experiment = await experiments.GetAsync(experimentId, cancellationToken).ConfigureAwait(false);
        if (experiment.LifecycleStage != LifecycleStages.Active)
        {
            throw TrackingException.Invalid($"The experiment {experimentId} must be in the 'active' state. Current state is {experiment.LifecycleStage}.");
        }

        tags ??= [];
        foreach (var tag in tags)
        {
            ValidateTag(tag);
        }

        var runId = Guid.NewGuid().ToString("N");
        // A run name given as the mlflow.runName tag counts as the name, as in MLflow; given both ways, the two must agree
        // (mlflow/store/tracking/sqlalchemy_store.py create_run), else one of them would be silently dropped.
        var runNameTag = tags.FirstOrDefault(tag => tag.Key == RunNameTag)?.Value;
        if (!string.IsNullOrEmpty(runName) && !string.IsNullOrEmpty(runNameTag) && runName != runNameTag)
        {
            throw TrackingException.Invalid(
                $"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='{runName}', mlflow.runName='{runNameTag}').");
        }

        runName = !string.IsNullOrEmpty(runName) ? runName : !string.IsNullOrEmpty(runNameTag) ? runNameTag : $"run-{runId[..8]}";
        TrackingValidation.Length("Run name", TrackingLimits.MaxEntityKeyLength, runName);
        var allTags = tags.Where(tag => tag.Key != RunNameTag).Append(new TrackingTag(RunNameTag, runName)).ToList();
        if (userId is not null && allTags.TrueForAll(tag => tag.Key != UserTag))
        {
            allTags.Add(new TrackingTag(UserTag, userId));
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO runs (run_uuid, experiment_id, run_name, user_id, status, start_time, artifact_uri, lifecycle_stage) VALUES (@runId, @experimentId, @runName, @userId, @status, @start, @artifactUri, @stage)",
            new
            {
                runId,
                experimentId = long.Parse(experiment.ExperimentId, CultureInfo.InvariantCulture),
                runName,
                userId,
                status = RunStatuses.Running,
                start = startTime ?? time.GetUtcNow().ToUnixTimeMilliseconds(),
                artifactUri = $"{experiment.ArtifactLocation.TrimEnd('/')}/{runId}/artifacts",
                stage = LifecycleStages.Active,
            }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        foreach (var tag in allTags)
        {
            await UpsertTagAsync(connection, transaction, runId, tag, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return await GetAsync(runId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Run> GetAsync(string runId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var info = await ReadInfoAsync(connection, runId, cancellationToken).ConfigureAwait(false);
        return (await WithDataAsync(connection, [info], cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>Runs of the given experiments matching an MLflow filter, in one indexed query, a page at a time.</summary>
    public async Task<RunPage> SearchAsync(RunSearch search, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        if (search.ExperimentIds.Count == 0)
        {
            throw TrackingException.Invalid("Missing value for required parameter 'experiment_ids'. See the API docs for more information about request parameters.");
        }

        var maxResults = PageToken.MaxResults(search.MaxResults);
        var tokenQuery = TokenQuery(search);
        var offset = PageToken.ParseOffset(search.PageToken, tokenQuery);
        var sql = new RunSearchSql(database.Engine, search.Filter ?? "");
        var experimentIds = search.ExperimentIds.Select(id => long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? "@" + sql.Add(parsed)
            : throw TrackingException.Invalid($"Invalid value '{id}' for parameter 'experiment_ids': experiment ids are non-negative integers.")).ToList();
        var stage = search.ViewType switch
        {
            ViewType.ActiveOnly => " AND r.lifecycle_stage = 'active'",
            ViewType.DeletedOnly => " AND r.lifecycle_stage = 'deleted'",
            _ => "",
        };
        var where = sql.Where(Search.SearchFilterParser.Parse(search.Filter));
        var orderBy = sql.OrderBy(search.OrderBy);
        var query = $"SELECT {InfoColumns.Replace("run_uuid AS", "r.run_uuid AS", StringComparison.Ordinal)} FROM {sql.From} " +
                    $"WHERE r.experiment_id IN ({string.Join(", ", experimentIds)}){stage}{where}{sql.JoinConditions} ORDER BY {orderBy} LIMIT @{sql.Add(maxResults + 1)} OFFSET @{sql.Add(offset)}";

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<InfoRow>(new CommandDefinition(query, sql.Parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var next = PageToken.Next(offset, maxResults, rows.Count, tokenQuery);
        var infos = rows.Take(maxResults).Select(row => row.ToInfo()).ToList();
        return new RunPage(await WithDataAsync(connection, infos, cancellationToken).ConfigureAwait(false), next);
    }

    /// <summary>
    /// What a run search's page token is tied to: the experiment ids, filter, order and view type, whose change would make
    /// the token's offset count through other results (MLflow's run tokens hold only the offset; its logged-model tokens
    /// hold the query, with these messages).
    /// </summary>
    private static PageTokenQuery TokenQuery(RunSearch search) => new PageTokenQuery("runs")
        .WithExperimentIds(search.ExperimentIds)
        .WithFilter(search.Filter)
        .WithOrderBy(search.OrderBy)
        .WithViewType(search.ViewType, "run_view_type");

    public async Task<RunInfo> UpdateAsync(string runId, string? status, long? endTime, string? runName, CancellationToken cancellationToken = default)
    {
        if (status is not null && !RunStatuses.All.Contains(status))
        {
            throw TrackingException.Invalid($"Invalid value '{status}' for parameter 'status': use one of {string.Join(", ", RunStatuses.All)}.");
        }

        TrackingValidation.Length("Run name", TrackingLimits.MaxEntityKeyLength, runName);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var info = await ReadInfoAsync(connection, runId, cancellationToken, transaction).ConfigureAwait(false);
        EnsureActive(info);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET status = @status, end_time = @endTime, run_name = @runName WHERE run_uuid = @runId",
            new { runId, status = status ?? info.Status, endTime = endTime ?? info.EndTime, runName = runName ?? info.RunName }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (runName is not null)
        {
            await UpsertTagAsync(connection, transaction, runId, new TrackingTag(RunNameTag, runName), cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return info with { Status = status ?? info.Status, EndTime = endTime ?? info.EndTime, RunName = runName ?? info.RunName };
    }

    public Task DeleteAsync(string runId, CancellationToken cancellationToken = default) =>
        SetStageAsync(runId, LifecycleStages.Deleted, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);

    public Task RestoreAsync(string runId, CancellationToken cancellationToken = default) =>
        SetStageAsync(runId, LifecycleStages.Active, null, cancellationToken);

    /// <summary>Logs metrics, params and tags in one transaction: all of it is stored, or (on any refusal) none of it.</summary>
    public async Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> parameters, IReadOnlyList<TrackingTag> tags, CancellationToken cancellationToken = default)
    {
        TrackingValidation.Batch(metrics.Count, parameters.Count, tags.Count);
        foreach (var metric in metrics)
        {
            TrackingValidation.Key("Metric", metric.Key);
        }

        foreach (var param in parameters)
        {
            TrackingValidation.Key("Param", param.Key);
            TrackingValidation.Length("Param value", TrackingValidation.MaxParamValueLength, param.Value);
        }

        var duplicate = parameters.GroupBy(param => param.Key).FirstOrDefault(group => group.Select(param => param.Value).Distinct().Count() > 1);
        if (duplicate is not null)
        {
            throw TrackingException.Invalid($"Duplicate parameter keys have been submitted: '{duplicate.Key}' with different values. Please ensure the request contains only one param value per param key.");
        }

        foreach (var tag in tags)
        {
            ValidateTag(tag);
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        EnsureActive(await ReadInfoAsync(connection, runId, cancellationToken, transaction).ConfigureAwait(false));

        foreach (var param in parameters.DistinctBy(param => param.Key))
        {
            var existing = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT value FROM run_params WHERE run_uuid = @runId AND key = @key", new { runId, key = param.Key }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (existing is null)
            {
                await connection.ExecuteAsync(new CommandDefinition("INSERT INTO run_params (run_uuid, key, value) VALUES (@runId, @key, @value)",
                    new { runId, key = param.Key, value = param.Value }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            else if (existing != param.Value)
            {
                throw TrackingException.Invalid(
                    $"Changing param values is not allowed. Param with key='{param.Key}' was already logged with value='{existing}' for run ID='{runId}'. Attempted logging new value '{param.Value}'.");
            }
        }

        await InsertMetricsAsync(connection, transaction, runId, metrics, cancellationToken).ConfigureAwait(false);
        await LinkModelMetricsAsync(connection, transaction, runId, metrics, cancellationToken).ConfigureAwait(false);

        foreach (var tag in tags)
        {
            await UpsertTagAsync(connection, transaction, runId, tag, cancellationToken).ConfigureAwait(false);
            if (tag.Key == RunNameTag)
            {
                await connection.ExecuteAsync(new CommandDefinition("UPDATE runs SET run_name = @value WHERE run_uuid = @runId",
                    new { runId, value = tag.Value }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The history, then one upsert per metric key with the batch's own latest value, which the database keeps only if
    /// it beats the stored one. On PostgreSQL the history goes in multi-row INSERTs (a round trip per 150 metrics); on
    /// SQLite, which is in-process and looks named parameters up one by one, one prepared single-row INSERT per metric
    /// is faster (bench/results: TrackingBenchmarks).
    /// </summary>
    private async Task InsertMetricsAsync(DbConnection connection, DbTransaction transaction, string runId, IReadOnlyList<Metric> metrics, CancellationToken cancellationToken)
    {
        const string Insert = "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES ";
        if (database.Engine == DatabaseEngine.Sqlite)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                Insert + "(@RunId, @Key, @Value, @Timestamp, @Step, @IsNan) ON CONFLICT DO NOTHING",
                metrics.Select(metric => new { RunId = runId, metric.Key, Value = double.IsNaN(metric.Value) ? 0d : metric.Value, metric.Timestamp, metric.Step, IsNan = double.IsNaN(metric.Value) }),
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        const int RowsPerStatement = 150;
        for (var start = 0; database.Engine == DatabaseEngine.Postgres && start < metrics.Count; start += RowsPerStatement)
        {
            var chunk = metrics.Skip(start).Take(RowsPerStatement).ToList();
            var parameters = new DynamicParameters();
            parameters.Add("runId", runId);
            var rows = new List<string>(chunk.Count);
            for (var i = 0; i < chunk.Count; i++)
            {
                var isNan = double.IsNaN(chunk[i].Value);
                parameters.Add($"k{i}", chunk[i].Key);
                parameters.Add($"v{i}", isNan ? 0d : chunk[i].Value);
                parameters.Add($"t{i}", chunk[i].Timestamp);
                parameters.Add($"s{i}", chunk[i].Step);
                parameters.Add($"n{i}", isNan);
                rows.Add($"(@runId, @k{i}, @v{i}, @t{i}, @s{i}, @n{i})");
            }

            await connection.ExecuteAsync(new CommandDefinition(
                $"{Insert}{string.Join(", ", rows)} ON CONFLICT DO NOTHING",
                parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        // MLflow's order for "latest": step, then timestamp, then value (NaN stored as 0).
        var latest = metrics
            .GroupBy(metric => metric.Key)
            .Select(group => group.MaxBy(metric => (metric.Step, metric.Timestamp, double.IsNaN(metric.Value) ? 0d : metric.Value))!);
        foreach (var metric in latest)
        {
            var isNan = double.IsNaN(metric.Value);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (@runId, @key, @value, @timestamp, @step, @isNan)
                ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan
                WHERE (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)
                """,
                new { runId, key = metric.Key, value = isNan ? 0d : metric.Value, timestamp = metric.Timestamp, step = metric.Step, isNan },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Keeps the values linked to a logged model (MLflow 3: <c>model_id</c>, and optionally <c>dataset_name</c> and
    /// <c>dataset_digest</c>, on a metric) on that model too. A model this server does not know is
    /// RESOURCE_DOES_NOT_EXIST, and the batch is not stored. Batches without links pay one pass over the list.
    /// </summary>
    private static async Task LinkModelMetricsAsync(DbConnection connection, DbTransaction transaction, string runId, IReadOnlyList<Metric> metrics, CancellationToken cancellationToken)
    {
        HashSet<string>? known = null;
        for (var i = 0; i < metrics.Count; i++)
        {
            var metric = metrics[i];
            if (metric.ModelId is not { Length: > 0 } modelId)
            {
                continue;
            }

            TrackingValidation.Length("Dataset name", 500, metric.DatasetName);
            TrackingValidation.Length("Dataset digest", 36, metric.DatasetDigest);
            known ??= new HashSet<string>(StringComparer.Ordinal);
            if (known.Add(modelId))
            {
                await RequireLoggedModelAsync(connection, transaction, modelId, cancellationToken).ConfigureAwait(false);
            }

            var isNan = double.IsNaN(metric.Value);
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO logged_model_metrics (model_id, key, step, timestamp, value, is_nan, run_uuid, dataset_name, dataset_digest) " +
                "VALUES (@modelId, @Key, @Step, @Timestamp, @value, @isNan, @runId, @datasetName, @datasetDigest) ON CONFLICT DO NOTHING",
                new { modelId, metric.Key, metric.Step, metric.Timestamp, value = isNan ? 0d : metric.Value, isNan, runId, datasetName = metric.DatasetName ?? "", datasetDigest = metric.DatasetDigest ?? "" },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records the datasets a run used (MLflow log_inputs). A dataset is stored once per experiment by name and digest;
    /// logging the same input twice changes nothing. Limits as MLflow's.
    /// </summary>
    public Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> inputs, CancellationToken cancellationToken = default) =>
        LogInputsAsync(runId, inputs, [], cancellationToken);

    /// <summary>
    /// Records the datasets and the logged models a run used (MLflow log_inputs with <c>datasets</c> and <c>models</c>),
    /// in one transaction. A model this server does not know is RESOURCE_DOES_NOT_EXIST and nothing is stored.
    /// </summary>
    public async Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> inputs, IReadOnlyList<string> modelIds, CancellationToken cancellationToken = default)
    {
        foreach (var input in inputs)
        {
            var dataset = input.Dataset;
            foreach (var (what, value, limit) in new[]
            {
                ("Dataset name", dataset.Name, 500), ("Dataset digest", dataset.Digest, 36), ("Dataset source type", dataset.SourceType, 36),
                ("Dataset source", dataset.Source, 65535), ("Dataset schema", dataset.Schema, 1_048_575), ("Dataset profile", dataset.Profile, 16384),
            })
            {
                if (what is "Dataset name" or "Dataset digest" or "Dataset source type" or "Dataset source" && string.IsNullOrEmpty(value))
                {
                    throw TrackingException.Invalid($"{what} is required for every dataset input.");
                }

                TrackingValidation.Length(what, limit, value);
            }

            foreach (var tag in input.Tags)
            {
                TrackingValidation.Length("Input tag key", 255, tag.Key);
                TrackingValidation.Length("Input tag value", 500, tag.Value);
            }
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var info = await ReadInfoAsync(connection, runId, cancellationToken, transaction).ConfigureAwait(false);
        EnsureActive(info);
        var experimentId = long.Parse(info.ExperimentId, CultureInfo.InvariantCulture);
        foreach (var input in inputs)
        {
            var dataset = input.Dataset;
            var datasetId = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT dataset_uuid FROM datasets WHERE experiment_id = @experimentId AND name = @Name AND digest = @Digest",
                new { experimentId, dataset.Name, dataset.Digest }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (datasetId is null)
            {
                datasetId = Guid.NewGuid().ToString("N");
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile) VALUES (@datasetId, @experimentId, @Name, @Digest, @SourceType, @Source, @Schema, @Profile)",
                    new { datasetId, experimentId, dataset.Name, dataset.Digest, dataset.SourceType, dataset.Source, dataset.Schema, dataset.Profile }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            var added = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO run_inputs (run_uuid, dataset_uuid) VALUES (@runId, @datasetId) ON CONFLICT DO NOTHING",
                new { runId, datasetId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (added == 0)
            {
                continue;
            }

            foreach (var tag in input.Tags)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO run_input_tags (run_uuid, dataset_uuid, key, value) VALUES (@runId, @datasetId, @Key, @Value) ON CONFLICT DO NOTHING",
                    new { runId, datasetId, tag.Key, Value = tag.Value ?? "" }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
        }

        foreach (var modelId in modelIds.Distinct())
        {
            await RequireLoggedModelAsync(connection, transaction, modelId, cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO run_model_inputs (run_uuid, model_id) VALUES (@runId, @modelId) ON CONFLICT DO NOTHING",
                new { runId, modelId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the logged models a run produced, each at its step (MLflow 3 log_outputs, which <c>log_model()</c> calls).
    /// Logging a model the run already has changes nothing; a model this server does not know is RESOURCE_DOES_NOT_EXIST.
    /// </summary>
    public async Task LogOutputsAsync(string runId, IReadOnlyList<ModelOutput> outputs, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        EnsureActive(await ReadInfoAsync(connection, runId, cancellationToken, transaction).ConfigureAwait(false));
        foreach (var output in outputs.DistinctBy(output => output.ModelId))
        {
            await RequireLoggedModelAsync(connection, transaction, output.ModelId, cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO run_model_outputs (run_uuid, model_id, step) VALUES (@runId, @ModelId, @Step) ON CONFLICT DO NOTHING",
                new { runId, output.ModelId, output.Step }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task RequireLoggedModelAsync(DbConnection connection, DbTransaction transaction, string modelId, CancellationToken cancellationToken)
    {
        if (await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
                "SELECT 1 FROM logged_models WHERE model_id = @modelId AND lifecycle_stage = 'active'", new { modelId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) is null)
        {
            throw TrackingException.NotFound($"Logged model with ID '{modelId}' not found.");
        }
    }

    public async Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        EnsureActive(await ReadInfoAsync(connection, runId, cancellationToken).ConfigureAwait(false));
        var removed = await connection.ExecuteAsync(new CommandDefinition("DELETE FROM run_tags WHERE run_uuid = @runId AND key = @key",
            new { runId, key }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (removed == 0)
        {
            throw TrackingException.NotFound($"No tag with name: {key} in run with id {runId}");
        }
    }

    public async Task<MetricHistoryPage> GetMetricHistoryAsync(string runId, string key, int? maxResults = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        var limit = maxResults ?? 25000;
        if (limit <= 0 || limit > 25000)
        {
            throw TrackingException.Invalid($"Invalid value {limit} for parameter 'max_results' supplied. It must be positive and at most 25000.");
        }

        var offset = PageToken.ParseOffset(pageToken);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ReadInfoAsync(connection, runId, cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<MetricRow>(new CommandDefinition(
            "SELECT key AS Key, value AS Value, timestamp AS Timestamp, step AS Step, is_nan AS IsNan FROM metrics WHERE run_uuid = @runId AND key = @key ORDER BY step, timestamp, value LIMIT @take OFFSET @offset",
            new { runId, key, take = limit + 1, offset }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var next = rows.Count > limit ? PageToken.Create(offset + limit) : null;
        return new MetricHistoryPage(rows.Take(limit).Select(row => row.ToMetric()).ToList(), next);
    }

    /// <summary>
    /// The whole history of one metric in (step, timestamp, value) order, read row by row from an open cursor so memory
    /// stays flat however long the history is. The run is checked before the first row; the connection stays open
    /// while the caller enumerates.
    /// </summary>
    public async IAsyncEnumerable<Metric> StreamMetricHistoryAsync(string runId, string key, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ReadInfoAsync(connection, runId, cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = @runId AND key = @key ORDER BY step, timestamp, value";
        AddParameter(command, "runId", runId);
        AddParameter(command, "key", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // SQLite returns is_nan as an integer, PostgreSQL as a boolean.
            var isNan = Convert.ToBoolean(reader.GetValue(3), CultureInfo.InvariantCulture);
            yield return new Metric(key, isNan ? double.NaN : reader.GetDouble(0), reader.GetInt64(1), reader.GetInt64(2));
        }
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private async Task SetStageAsync(string runId, string stage, long? deletedTime, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ReadInfoAsync(connection, runId, cancellationToken).ConfigureAwait(false);
        // Deleted or restored on its own: no longer one of the runs that restoring its experiment brings back.
        await connection.ExecuteAsync(new CommandDefinition("UPDATE runs SET lifecycle_stage = @stage, deleted_time = @deletedTime, deleted_with_experiment = @unmarked WHERE run_uuid = @runId",
            new { runId, stage, deletedTime, unmarked = false }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private static async Task<RunInfo> ReadInfoAsync(DbConnection connection, string runId, CancellationToken cancellationToken, DbTransaction? transaction = null)
    {
        var row = await connection.QuerySingleOrDefaultAsync<InfoRow>(new CommandDefinition(
            $"SELECT {InfoColumns} FROM runs WHERE run_uuid = @runId", new { runId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw TrackingException.NotFound($"Run with id={runId} not found");
        return row.ToInfo();
    }

    /// <summary>Loads latest metrics, params and tags of many runs in three queries, whatever their number.</summary>
    private static async Task<List<Run>> WithDataAsync(DbConnection connection, List<RunInfo> infos, CancellationToken cancellationToken)
    {
        if (infos.Count == 0)
        {
            return [];
        }

        var (ids, inList) = SqlInList.Of([.. infos.Select(info => info.RunId)]);
        var metrics = (await connection.QueryAsync<MetricRow>(new CommandDefinition(
            $"SELECT run_uuid AS RunId, key AS Key, value AS Value, timestamp AS Timestamp, step AS Step, is_nan AS IsNan FROM latest_metrics WHERE run_uuid IN {inList} ORDER BY key", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.RunId);
        var runParams = (await connection.QueryAsync<KeyValueRow>(new CommandDefinition(
            $"SELECT run_uuid AS RunId, key AS Key, value AS Value FROM run_params WHERE run_uuid IN {inList} ORDER BY key", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.RunId);
        var tags = (await connection.QueryAsync<KeyValueRow>(new CommandDefinition(
            $"SELECT run_uuid AS RunId, key AS Key, value AS Value FROM run_tags WHERE run_uuid IN {inList} ORDER BY key", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.RunId);
        var datasets = (await connection.QueryAsync<InputRow>(new CommandDefinition(
            $"SELECT i.run_uuid AS RunId, d.dataset_uuid AS DatasetId, d.name AS Name, d.digest AS Digest, d.source_type AS SourceType, d.source AS Source, d.schema AS Schema, d.profile AS Profile " +
            $"FROM run_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid IN {inList} ORDER BY d.name, d.digest", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.RunId);
        var inputTags = (await connection.QueryAsync<InputTagRow>(new CommandDefinition(
            $"SELECT run_uuid AS RunId, dataset_uuid AS DatasetId, key AS Key, value AS Value FROM run_input_tags WHERE run_uuid IN {inList} ORDER BY key", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => (row.RunId, row.DatasetId));
        var modelInputs = (await connection.QueryAsync<ModelInputRow>(new CommandDefinition(
            $"SELECT run_uuid AS RunId, model_id AS ModelId FROM run_model_inputs WHERE run_uuid IN {inList} ORDER BY model_id", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.RunId);
        var modelOutputs = (await connection.QueryAsync<ModelOutputRow>(new CommandDefinition(
            $"SELECT run_uuid AS RunId, model_id AS ModelId, step AS Step FROM run_model_outputs WHERE run_uuid IN {inList} ORDER BY step, model_id", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.RunId);
        return infos.Select(info => new Run(
            info,
            new RunData(
                metrics[info.RunId].Select(row => row.ToMetric()).ToList(),
                runParams[info.RunId].Select(row => new Param(row.Key, row.Value ?? "")).ToList(),
                tags[info.RunId].Select(row => new TrackingTag(row.Key, row.Value)).ToList()),
            datasets[info.RunId].Select(row => new DatasetInput(
                new DatasetDescription(row.Name, row.Digest, row.SourceType, row.Source, row.Schema, row.Profile),
                inputTags[(info.RunId, row.DatasetId)].Select(tag => new TrackingTag(tag.Key, tag.Value)).ToList())).ToList())
        {
            ModelInputs = modelInputs[info.RunId].Select(row => row.ModelId).ToList(),
            ModelOutputs = modelOutputs[info.RunId].Select(row => new ModelOutput(row.ModelId, row.Step)).ToList(),
        }).ToList();
    }

    private static void EnsureActive(RunInfo info)
    {
        if (info.LifecycleStage != LifecycleStages.Active)
        {
            throw TrackingException.Invalid($"The run {info.RunId} must be in the 'active' state. Current state is {info.LifecycleStage}.");
        }
    }

    private static void ValidateTag(TrackingTag tag)
    {
        TrackingValidation.Key("Tag", tag.Key);
        TrackingValidation.Length("Tag value", TrackingValidation.MaxRunTagValueLength, tag.Value);
    }

    private static Task<int> UpsertTagAsync(DbConnection connection, DbTransaction transaction, string runId, TrackingTag tag, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO run_tags (run_uuid, key, value) VALUES (@runId, @key, @value) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value",
            new { runId, key = tag.Key, value = tag.Value }, transaction, cancellationToken: cancellationToken));

    private sealed record InfoRow(string RunId, long ExperimentId, string? RunName, string? UserId, string Status, long StartTime, long? EndTime, string ArtifactUri, string LifecycleStage)
    {
        public RunInfo ToInfo() => new(RunId, ExperimentId.ToString(CultureInfo.InvariantCulture), RunName, UserId, Status, StartTime, EndTime, ArtifactUri, LifecycleStage);
    }

    private sealed record KeyValueRow(string RunId, string Key, string? Value);

    private sealed record InputRow(string RunId, string DatasetId, string Name, string Digest, string SourceType, string Source, string? Schema, string? Profile);

    private sealed record InputTagRow(string RunId, string DatasetId, string Key, string Value);

    private sealed record ModelInputRow(string RunId, string ModelId);

    private sealed record ModelOutputRow(string RunId, string ModelId, long Step);

    // Settable properties, not a positional record: SQLite returns is_nan as an integer, which Dapper converts only for setters.
    private sealed class MetricRow
    {
        public string RunId { get; set; } = "";

        public string Key { get; set; } = "";

        public double Value { get; set; }

        public long Timestamp { get; set; }

        public long Step { get; set; }

        public bool IsNan { get; set; }

        public Metric ToMetric() => new(Key, IsNan ? double.NaN : Value, Timestamp, Step);
    }
}
