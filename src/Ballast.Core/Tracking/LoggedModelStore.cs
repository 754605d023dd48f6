using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text.Json.Nodes;
using Ballast.Metadata;
using Dapper;

namespace Ballast.Tracking;

/// <summary>
/// MLflow 3 logged models in the metadata database (mlflow/store/tracking/sqlalchemy_store.py semantics): created
/// pending in an active experiment with their files' place under the experiment's artifact root, finalized ready or
/// failed once the client has uploaded them, tagged, given write-once params, soft-deleted, and searched with MLflow's
/// filter grammar in one SQL query.
/// </summary>
public sealed class LoggedModelStore(MetadataDatabase database, ExperimentStore experiments, TimeProvider time)
{
    /// <summary>MLflow's default page of a logged-model search (SEARCH_LOGGED_MODEL_MAX_RESULTS_DEFAULT).</summary>
    public const int SearchMaxResultsDefault = 50;

    /// <summary>The largest page this server returns; the MLflow client pages through with tokens.</summary>
    public const int SearchMaxResultsThreshold = 1000;

    private const string Columns = "model_id AS ModelId, experiment_id AS ExperimentId, name AS Name, artifact_location AS ArtifactLocation, creation_timestamp AS CreationTimestamp, " +
                                   "last_updated_timestamp AS LastUpdatedTimestamp, status AS Status, status_message AS StatusMessage, model_type AS ModelType, source_run_id AS SourceRunId, lifecycle_stage AS LifecycleStage";

    // mlflow/utils/validation.py _validate_logged_model_name.
    private static readonly SearchValues<char> BadNameCharacters = SearchValues.Create("/:.%\"'");

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<LoggedModel> CreateAsync(
        string experimentId, string? name = null, string? modelType = null, string? sourceRunId = null,
        IReadOnlyList<Param>? parameters = null, IReadOnlyList<TrackingTag>? tags = null, CancellationToken cancellationToken = default)
    {
        if (name is not null)
        {
            ValidateName(name);
        }

        TrackingValidation.Length("Model type", 500, modelType);
        parameters ??= [];
        tags ??= [];
        ValidateParams(parameters);
        foreach (var tag in tags)
        {
            ValidateTag(tag);
        }

        var experiment = await experiments.GetAsync(experimentId, cancellationToken).ConfigureAwait(false);
        if (experiment.LifecycleStage != LifecycleStages.Active)
        {
            throw TrackingException.Invalid($"The experiment {experimentId} must be in the 'active' state. Current state is {experiment.LifecycleStage}.");
        }

        var modelId = "m-" + Guid.NewGuid().ToString("N");
        var now = Now;
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(sourceRunId) && await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
                "SELECT 1 FROM runs WHERE run_uuid = @sourceRunId", new { sourceRunId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) is null)
        {
            throw TrackingException.NotFound($"Run with id={sourceRunId} not found");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp, last_updated_timestamp, status, model_type, source_run_id, lifecycle_stage) " +
            "VALUES (@modelId, @experimentId, @name, @location, @now, @now, @status, @modelType, @sourceRunId, @stage)",
            new
            {
                modelId,
                experimentId = long.Parse(experiment.ExperimentId, CultureInfo.InvariantCulture),
                name = name ?? $"model-{modelId[2..10]}",
                // Where MLflow puts a logged model's files (SqlAlchemyStore: <artifact root>/models/<model_id>/artifacts).
                location = $"{experiment.ArtifactLocation.TrimEnd('/')}/models/{modelId}/artifacts",
                now,
                status = LoggedModelStatuses.Pending,
                modelType = string.IsNullOrEmpty(modelType) ? null : modelType,
                sourceRunId = string.IsNullOrEmpty(sourceRunId) ? null : sourceRunId,
                stage = LifecycleStages.Active,
            }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await InsertParamsAsync(connection, transaction, modelId, parameters, cancellationToken).ConfigureAwait(false);
        foreach (var tag in tags)
        {
            await UpsertTagAsync(connection, transaction, modelId, tag, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return await GetAsync(modelId, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The model; a deleted one only with <paramref name="allowDeleted"/> (MLflow's <c>allow_deleted</c>).</summary>
    public async Task<LoggedModel> GetAsync(string modelId, bool allowDeleted = false, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await ReadAsync(connection, null, modelId, allowDeleted, cancellationToken).ConfigureAwait(false);
        return (await CompleteAsync(connection, [row], cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>Sets the status the client reports once its upload ended: <see cref="LoggedModelStatuses.Final"/>.</summary>
    public async Task<LoggedModel> FinalizeAsync(string modelId, string status, CancellationToken cancellationToken = default)
    {
        if (!LoggedModelStatuses.Final.Contains(status))
        {
            throw TrackingException.Invalid($"Invalid value '{status}' for parameter 'status': a logged model is finalized {string.Join(" or ", LoggedModelStatuses.Final)}.");
        }

        await WithModelAsync(modelId, (connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE logged_models SET status = @status, last_updated_timestamp = @now WHERE model_id = @modelId",
            new { modelId, status, now = Now }, transaction, cancellationToken: cancellationToken)), cancellationToken).ConfigureAwait(false);
        return await GetAsync(modelId, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Marks the model deleted, as MLflow does: it leaves searches and gets; its files and registered versions stay.</summary>
    public Task DeleteAsync(string modelId, CancellationToken cancellationToken = default) =>
        WithModelAsync(modelId, (connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE logged_models SET lifecycle_stage = @stage, last_updated_timestamp = @now WHERE model_id = @modelId",
            new { modelId, stage = LifecycleStages.Deleted, now = Now }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Sets (or overwrites) tags, all of them or, when one is refused, none.</summary>
    public Task SetTagsAsync(string modelId, IReadOnlyList<TrackingTag> tags, CancellationToken cancellationToken = default)
    {
        foreach (var tag in tags)
        {
            ValidateTag(tag);
        }

        return WithModelAsync(modelId, async (connection, transaction) =>
        {
            foreach (var tag in tags)
            {
                await UpsertTagAsync(connection, transaction, modelId, tag, cancellationToken).ConfigureAwait(false);
            }

            await TouchAsync(connection, transaction, modelId, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task DeleteTagAsync(string modelId, string key, CancellationToken cancellationToken = default) =>
        WithModelAsync(modelId, async (connection, transaction) =>
        {
            var removed = await connection.ExecuteAsync(new CommandDefinition("DELETE FROM logged_model_tags WHERE model_id = @modelId AND key = @key",
                new { modelId, key }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (removed == 0)
            {
                throw TrackingException.NotFound($"No tag with key '{key}' found for model with ID '{modelId}'.");
            }

            await TouchAsync(connection, transaction, modelId, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Logs params, write-once as a run's: the same value again is allowed, another value refused, and a refused batch stores nothing.</summary>
    public Task LogParamsAsync(string modelId, IReadOnlyList<Param> parameters, CancellationToken cancellationToken = default)
    {
        ValidateParams(parameters);
        return WithModelAsync(modelId, async (connection, transaction) =>
        {
            await InsertParamsAsync(connection, transaction, modelId, parameters, cancellationToken).ConfigureAwait(false);
            await TouchAsync(connection, transaction, modelId, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>
    /// Logged models of the given experiments matching an MLflow filter (attributes <c>name</c>, <c>model_id</c>,
    /// <c>model_type</c>, <c>status</c>, <c>source_run_id</c>, <c>creation_timestamp</c>, <c>last_updated_timestamp</c>;
    /// <c>tags.x</c>; <c>params.x</c>; <c>metrics.x</c>, any linked value, on the given datasets when there are some), in
    /// one indexed query, a page at a time. Deleted models are left out.
    /// </summary>
    public async Task<LoggedModelPage> SearchAsync(LoggedModelSearch search, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        if (search.ExperimentIds.Count == 0)
        {
            throw TrackingException.Invalid("Missing value for required parameter 'experiment_ids'. See the API docs for more information about request parameters.");
        }

        var maxResults = search.MaxResults ?? SearchMaxResultsDefault;
        if (maxResults <= 0 || maxResults > SearchMaxResultsThreshold)
        {
            throw TrackingException.Invalid($"Invalid value {maxResults} for parameter 'max_results' supplied. It must be at most {SearchMaxResultsThreshold} and positive.");
        }

        var tokenQuery = TokenQuery(search);
        var offset = PageToken.ParseOffset(search.PageToken, tokenQuery);
        var sql = new LoggedModelSearchSql(database.Engine, search.Filter ?? "");
        var experimentIds = search.ExperimentIds.Select(id => long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? "@" + sql.Add(parsed)
            : throw TrackingException.Invalid($"Invalid value '{id}' for parameter 'experiment_ids': experiment ids are non-negative integers.")).ToList();
        var where = sql.Where(Search.SearchFilterParser.Parse(search.Filter), search.Datasets ?? []);
        var orderBy = sql.OrderBy(search.OrderBy);
        var query = $"SELECT {Columns} FROM logged_models m WHERE m.experiment_id IN ({string.Join(", ", experimentIds)}) AND m.lifecycle_stage = 'active'{where} " +
                    $"ORDER BY {orderBy} LIMIT @{sql.Add(maxResults + 1)} OFFSET @{sql.Add(offset)}";

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(query, sql.Parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var next = PageToken.Next(offset, maxResults, rows.Count, tokenQuery);
        return new LoggedModelPage(await CompleteAsync(connection, rows.Take(maxResults).ToList(), cancellationToken).ConfigureAwait(false), next);
    }

    /// <summary>
    /// What a search's page token is tied to: MLflow's token holds the experiment ids, filter and order
    /// (<c>SearchLoggedModelsPaginationToken</c>, with its messages); the datasets, which also decide the results, are
    /// held too.
    /// </summary>
    private static PageTokenQuery TokenQuery(LoggedModelSearch search) => new PageTokenQuery("logged_models")
        .WithExperimentIds(search.ExperimentIds)
        .WithFilter(search.Filter, "filter_string")
        .WithOrderBy(search.OrderBy is { Count: > 0 } orderBy
            ? new JsonArray([.. orderBy.Select(order => new JsonObject
            {
                ["field_name"] = order.FieldName,
                ["ascending"] = order.Ascending,
                ["dataset_name"] = order.DatasetName,
                ["dataset_digest"] = order.DatasetDigest,
            })])
            : null)
        .With("datasets", "Datasets in the page token do not match the requested datasets", search.Datasets is { Count: > 0 } datasets
            ? new JsonArray([.. datasets.Select(dataset => new JsonObject { ["dataset_name"] = dataset.DatasetName, ["dataset_digest"] = dataset.DatasetDigest })])
            : null);

    private async Task WithModelAsync(string modelId, Func<DbConnection, DbTransaction, Task> action, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ReadAsync(connection, transaction, modelId, allowDeleted: false, cancellationToken).ConfigureAwait(false);
        await action(connection, transaction).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private Task<int> TouchAsync(DbConnection connection, DbTransaction transaction, string modelId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("UPDATE logged_models SET last_updated_timestamp = @now WHERE model_id = @modelId",
            new { modelId, now = Now }, transaction, cancellationToken: cancellationToken));

    private static async Task<Row> ReadAsync(DbConnection connection, DbTransaction? transaction, string modelId, bool allowDeleted, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM logged_models WHERE model_id = @modelId", new { modelId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is not null && (allowDeleted || row.LifecycleStage == LifecycleStages.Active)
            ? row
            : throw TrackingException.NotFound($"Logged model with ID '{modelId}' not found.");
    }

    /// <summary>Loads the tags, params, metrics and registrations of many models in four queries, whatever their number.</summary>
    private static async Task<List<LoggedModel>> CompleteAsync(DbConnection connection, List<Row> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var (ids, inList) = SqlInList.Of([.. rows.Select(row => row.ModelId)]);
        var tags = (await connection.QueryAsync<KeyValueRow>(new CommandDefinition(
            $"SELECT model_id AS ModelId, key AS Key, value AS Value FROM logged_model_tags WHERE model_id IN {inList} ORDER BY key", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.ModelId);
        var parameters = (await connection.QueryAsync<KeyValueRow>(new CommandDefinition(
            $"SELECT model_id AS ModelId, key AS Key, value AS Value FROM logged_model_params WHERE model_id IN {inList} ORDER BY key", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.ModelId);
        var metrics = (await connection.QueryAsync<MetricRow>(new CommandDefinition(
            "SELECT model_id AS ModelId, key AS Key, value AS Value, timestamp AS Timestamp, step AS Step, is_nan AS IsNan, run_uuid AS RunId, dataset_name AS DatasetName, dataset_digest AS DatasetDigest " +
            $"FROM logged_model_metrics WHERE model_id IN {inList} ORDER BY key, step, timestamp, run_uuid, dataset_name, dataset_digest", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.ModelId);
        var registrations = (await connection.QueryAsync<RegistrationRow>(new CommandDefinition(
            $"SELECT model_id AS ModelId, name AS Name, version AS Version FROM model_versions WHERE model_id IN {inList} ORDER BY name, version", ids, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(row => row.ModelId);
        return rows.Select(row => new LoggedModel(
            row.ModelId, row.ExperimentId.ToString(CultureInfo.InvariantCulture), row.Name, row.ArtifactLocation, row.CreationTimestamp, row.LastUpdatedTimestamp,
            row.Status, row.StatusMessage, row.ModelType, row.SourceRunId, row.LifecycleStage,
            tags[row.ModelId].Select(tag => new TrackingTag(tag.Key, tag.Value)).ToList(),
            parameters[row.ModelId].Select(param => new Param(param.Key, param.Value)).ToList())
        {
            Metrics = metrics[row.ModelId].Select(metric => metric.ToMetric()).ToList(),
            Registrations = registrations[row.ModelId].Select(registration => new LoggedModelRegistration(registration.Name, registration.Version.ToString(CultureInfo.InvariantCulture))).ToList(),
        }).ToList();
    }

    private static async Task InsertParamsAsync(DbConnection connection, DbTransaction transaction, string modelId, IReadOnlyList<Param> parameters, CancellationToken cancellationToken)
    {
        foreach (var param in parameters.DistinctBy(param => param.Key))
        {
            var existing = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT value FROM logged_model_params WHERE model_id = @modelId AND key = @key", new { modelId, key = param.Key }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (existing is null)
            {
                await connection.ExecuteAsync(new CommandDefinition("INSERT INTO logged_model_params (model_id, key, value) VALUES (@modelId, @key, @value)",
                    new { modelId, key = param.Key, value = param.Value }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            else if (existing != param.Value)
            {
                throw TrackingException.Invalid(
                    $"Changing param values is not allowed. Param with key='{param.Key}' was already logged with value='{existing}' for logged model ID='{modelId}'. Attempted logging new value '{param.Value}'.");
            }
        }
    }

    private static Task<int> UpsertTagAsync(DbConnection connection, DbTransaction transaction, string modelId, TrackingTag tag, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO logged_model_tags (model_id, key, value) VALUES (@modelId, @key, @value) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
            new { modelId, key = tag.Key, value = tag.Value ?? "" }, transaction, cancellationToken: cancellationToken));

    private static void ValidateName(string name)
    {
        if (name.Length == 0 || name.AsSpan().IndexOfAny(BadNameCharacters) >= 0)
        {
            throw TrackingException.Invalid(
                $"Invalid model name ('{name}') provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '\"', \"'\")");
        }

        TrackingValidation.Length("Model name", 500, name);
    }

    private static void ValidateTag(TrackingTag tag)
    {
        TrackingValidation.Key("Tag", tag.Key);
        TrackingValidation.Length("Tag value", TrackingValidation.MaxRunTagValueLength, tag.Value);
    }

    private static void ValidateParams(IReadOnlyList<Param> parameters)
    {
        if (parameters.Count > TrackingValidation.MaxParamsTagsPerBatch)
        {
            throw TrackingException.Invalid($"A request can contain at most {TrackingValidation.MaxParamsTagsPerBatch} params. Got {parameters.Count} params.");
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
    }

    private sealed record Row(string ModelId, long ExperimentId, string Name, string ArtifactLocation, long CreationTimestamp, long LastUpdatedTimestamp,
        string Status, string? StatusMessage, string? ModelType, string? SourceRunId, string LifecycleStage);

    private sealed record KeyValueRow(string ModelId, string Key, string Value);

    // Settable properties: Dapper converts the database's integer type to long only for setters.
    private sealed class RegistrationRow
    {
        public string ModelId { get; set; } = "";

        public string Name { get; set; } = "";

        public long Version { get; set; }
    }

    // Settable properties: SQLite returns is_nan as an integer, which Dapper converts only for setters.
    private sealed class MetricRow
    {
        public string ModelId { get; set; } = "";

        public string Key { get; set; } = "";

        public double Value { get; set; }

        public long Timestamp { get; set; }

        public long Step { get; set; }

        public bool IsNan { get; set; }

        public string RunId { get; set; } = "";

        public string DatasetName { get; set; } = "";

        public string DatasetDigest { get; set; } = "";

        public Metric ToMetric() => new(Key, IsNan ? double.NaN : Value, Timestamp, Step)
        {
            ModelId = ModelId,
            RunId = RunId,
            DatasetName = DatasetName.Length == 0 ? null : DatasetName,
            DatasetDigest = DatasetDigest.Length == 0 ? null : DatasetDigest,
        };
    }
}
