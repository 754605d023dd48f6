using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ballast.Metadata;
using Ballast.Tracking;
using Ballast.Tracking.Search;
using Dapper;

namespace Ballast.Registry;

/// <summary>
/// The MLflow model registry in the metadata database: registered models, numbered versions, stages (with
/// archive-existing on promotion), aliases and tags, with MLflow's messages for what is refused. Every change is
/// recorded in the audit trail, in its own transaction, under the store's actor (<see cref="WithActor"/>).
/// </summary>
public sealed partial class RegistryStore(MetadataDatabase database, TimeProvider time, string actor = "system")
{
    private const string VersionColumns = "name AS Name, version AS Version, creation_time AS CreationTimestamp, last_updated_time AS LastUpdatedTimestamp, description AS Description, user_id AS UserId, current_stage AS CurrentStage, source AS Source, run_id AS RunId, run_link AS RunLink, status AS Status, status_message AS StatusMessage, model_id AS ModelId, storage_location AS StorageLocation";

    /// <summary>Each lost race means another writer got a number, so this bounds the writers racing for one model.</summary>
    private const int MaxVersionNumberAttempts = 32;

    /// <summary>The logged-model tag where MLflow lists the versions registered from the model (mlflow/utils/mlflow_tags.py MLFLOW_MODEL_VERSIONS).</summary>
    private const string ModelVersionsTagKey = "mlflow.modelVersions";

    /// <summary>The version tag that makes a version a prompt's (IS_PROMPT_TAG_KEY); MLflow links no logged model then.</summary>
    private const string PromptTagKey = "mlflow.prompt.is_prompt";

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The same store, recording changes under <paramref name="who"/> (an API key's name).</summary>
    public RegistryStore WithActor(string who) => new(database, time, who);

    private Task AuditAsync(DbConnection connection, DbTransaction transaction, string action, string resourceType, string resource, string? details, CancellationToken cancellationToken) =>
        Audit.AuditLog.RecordAsync(connection, transaction, time, actor, action, resourceType, resource, details, cancellationToken);

    private static string VersionResource(string name, long number) => $"{name}/{number.ToString(CultureInfo.InvariantCulture)}";

    public async Task<RegisteredModel> CreateModelAsync(string name, string? description = null, IReadOnlyList<TrackingTag>? tags = null, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        foreach (var tag in tags ?? [])
        {
            ValidateTag(tag);
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (@name, @now, @now, @description)",
                new { name, now = Now, description }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            throw TrackingException.AlreadyExists($"Registered Model (name={name}) already exists.");
        }

        foreach (var tag in tags ?? [])
        {
            await UpsertAsync(connection, transaction, "registered_model_tags", new { name, key = tag.Key, value = tag.Value }, "name, key, value", "@name, @key, @value", "name, key", cancellationToken).ConfigureAwait(false);
        }

        await AuditAsync(connection, transaction, "create", "registered_model", name, description, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return await GetModelAsync(name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RegisteredModel> GetModelAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<ModelRow>(new CommandDefinition(
            "SELECT name AS Name, creation_time AS CreationTimestamp, last_updated_time AS LastUpdatedTimestamp, description AS Description FROM registered_models WHERE name = @name",
            new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw ModelNotFound(name);
        return (await CompleteModelsAsync(connection, [row], cancellationToken).ConfigureAwait(false))[0];
    }

    public async Task<RegisteredModel> RenameModelAsync(string name, string newName, CancellationToken cancellationToken = default)
    {
        ValidateName(newName);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
        try
        {
            // Versions, model tags and aliases follow through ON UPDATE CASCADE; version tags have no foreign key.
            await connection.ExecuteAsync(new CommandDefinition("UPDATE registered_models SET name = @newName, last_updated_time = @now WHERE name = @name",
                new { name, newName, now = Now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition("UPDATE model_version_tags SET name = @newName WHERE name = @name",
                new { name, newName }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            throw TrackingException.AlreadyExists($"Registered Model (name={newName}) already exists.");
        }

        await AuditAsync(connection, transaction, "rename", "registered_model", newName, $"{name} -> {newName}", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return await GetModelAsync(newName, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RegisteredModel> UpdateModelAsync(string name, string? description, CancellationToken cancellationToken = default)
    {
        TrackingValidation.Length("Description", 5000, description);
        await WithModelAsync(name, async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("UPDATE registered_models SET description = @description, last_updated_time = @now WHERE name = @name",
                new { name, description, now = Now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await AuditAsync(connection, transaction, "update", "registered_model", name, description, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        return await GetModelAsync(name, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteModelAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM model_version_tags WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM registered_models WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await AuditAsync(connection, transaction, "delete", "registered_model", name, null, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<RegisteredModelPage> SearchModelsAsync(RegistrySearch search, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        var maxResults = search.MaxResults ?? 100;
        if (maxResults <= 0 || maxResults > 1000)
        {
            throw TrackingException.Invalid($"Invalid value for max_results. It must be at most 1000, but got value {maxResults}");
        }

        var tokenQuery = TokenQuery("registered_models", search);
        var offset = PageToken.ParseOffset(search.PageToken, tokenQuery);
        var parameters = new DynamicParameters();
        var where = string.Concat(SearchFilterParser.Parse(search.Filter).Select((clause, index) => " AND " + clause switch
        {
            { Kind: SearchKeyKind.Attribute, Key: "name" } => Compare(clause, "m.name", $"p{index}", parameters, search.Filter!),
            { Kind: SearchKeyKind.Tag } => TagExists("registered_model_tags t WHERE t.name = m.name", clause, $"p{index}", parameters, search.Filter!),
            _ => throw TrackingException.Invalid($"Invalid filter '{search.Filter}': registered models can be searched by name and tags."),
        }));
        var order = OrderBy(search.OrderBy, new Dictionary<string, string>
        {
            ["name"] = "m.name",
            ["timestamp"] = "m.last_updated_time",
            ["last_updated_timestamp"] = "m.last_updated_time",
            ["creation_timestamp"] = "m.creation_time",
        }, "m.name ASC", "m.name ASC");
        parameters.Add("limit", maxResults + 1);
        parameters.Add("offset", offset);

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<ModelRow>(new CommandDefinition(
            $"SELECT m.name AS Name, m.creation_time AS CreationTimestamp, m.last_updated_time AS LastUpdatedTimestamp, m.description AS Description FROM registered_models m WHERE 1 = 1{where} ORDER BY {order} LIMIT @limit OFFSET @offset",
            parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var next = PageToken.Next(offset, maxResults, rows.Count, tokenQuery);
        return new RegisteredModelPage(await CompleteModelsAsync(connection, rows.Take(maxResults).ToList(), cancellationToken).ConfigureAwait(false), next);
    }

    /// <summary>For each stage asked (all stages when none), the highest version in it.</summary>
    public async Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, IReadOnlyList<string>? stages = null, CancellationToken cancellationToken = default)
    {
        var wanted = (stages ?? []).Select(ModelStages.Canonical).ToHashSet();
        var model = await GetModelAsync(name, cancellationToken).ConfigureAwait(false);
        return model.LatestVersions.Where(version => wanted.Count == 0 || wanted.Contains(version.CurrentStage)).ToList();
    }

    public Task SetModelTagAsync(string name, TrackingTag tag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tag);
        ValidateTag(tag);
        return WithModelAsync(name, async (connection, transaction) =>
        {
            await UpsertAsync(connection, transaction, "registered_model_tags",
                new { name, key = tag.Key, value = tag.Value }, "name, key, value", "@name, @key, @value", "name, key", cancellationToken).ConfigureAwait(false);
            await AuditAsync(connection, transaction, "set_tag", "registered_model", name, $"{tag.Key}={tag.Value}", cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task DeleteModelTagAsync(string name, string key, CancellationToken cancellationToken = default) =>
        WithModelAsync(name, async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM registered_model_tags WHERE name = @name AND key = @key",
                new { name, key }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await AuditAsync(connection, transaction, "delete_tag", "registered_model", name, key, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public async Task SetAliasAsync(string name, string alias, string version, CancellationToken cancellationToken = default)
    {
        ValidateAlias(alias);
        var number = ParseVersion(version);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await RequireVersionAsync(connection, transaction, name, number, cancellationToken).ConfigureAwait(false);
        var previous = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "SELECT version FROM registered_model_aliases WHERE name = @name AND alias = @alias", new { name, alias }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await UpsertAsync(connection, transaction, "registered_model_aliases", new { name, alias, version = number },
            "name, alias, version", "@name, @alias, @version", "name, alias", cancellationToken, "version = excluded.version").ConfigureAwait(false);
        await AuditAsync(connection, transaction, "set_alias", "registered_model", name,
            $"{alias}: {(previous is { } old ? old.ToString(CultureInfo.InvariantCulture) : "-")} -> {number.ToString(CultureInfo.InvariantCulture)}", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteAliasAsync(string name, string alias, CancellationToken cancellationToken = default) =>
        WithModelAsync(name, async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM registered_model_aliases WHERE name = @name AND alias = @alias",
                new { name, alias }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await AuditAsync(connection, transaction, "delete_alias", "registered_model", name, alias, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public async Task<ModelVersion> GetVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var version = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "SELECT version FROM registered_model_aliases WHERE name = @name AND alias = @alias", new { name, alias }, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw TrackingException.NotFound($"Registered model alias {alias} not found.");
        return await GetVersionAsync(name, version.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// MLflow's checks of a version's source (mlflow/server/handlers.py <c>_validate_source</c> and
    /// <c>_validate_non_local_source_contains_relative_paths</c>): a path on the server's own disk only inside the
    /// artifact folder of the version's run, and no <c>..</c> segment in any other URI. A source is only a record here
    /// (serving reads models from the artifact store), but what the registry hands to clients must not point at the
    /// server's files.
    /// </summary>
    private async Task ValidateSourceAsync(string source, string? runId, CancellationToken cancellationToken)
    {
        // A runs:/ source is resolved through its run, as MLflow does (RunsArtifactRepository): a run that does not exist
        // is refused now, with MLflow's 404, rather than when an endpoint first tries to load the version.
        if (RunArtifactUri.TryParse(source, out var runs))
        {
            var sourceRun = runs.RunId;
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT COUNT(*) FROM runs WHERE run_uuid = @sourceRun", new { sourceRun }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 0)
            {
                throw TrackingException.NotFound($"Run with id={sourceRun} not found (the model version source '{source}' names it).");
            }
        }

        if (IsLocal(source))
        {
            if (runId is not null)
            {
                await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
                var artifactUri = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                    "SELECT artifact_uri FROM runs WHERE run_uuid = @runId", new { runId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (artifactUri is not null && IsLocal(artifactUri) && Path.GetFullPath(LocalPath(source)) is var path && Path.GetFullPath(LocalPath(artifactUri)).TrimEnd('/') is var folder
                    && (path == folder || path.StartsWith(folder + "/", StringComparison.Ordinal)))
                {
                    return;
                }
            }

            throw TrackingException.Invalid($"Invalid model version source: '{source}'. To use a local path as a model version source, the run_id request parameter has to be specified " +
                "and the local path has to be contained within the artifact directory of the run specified by the run_id.");
        }

        if (Uri.UnescapeDataString(source).Split(['/', '\\']).Contains(".."))
        {
            throw TrackingException.Invalid($"Invalid model version source: '{source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, " +
                "an absolute path must be provided without relative path references present. Please provide an absolute path.");
        }

        static bool IsLocal(string uri) => !uri.Contains(':', StringComparison.Ordinal) || uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase);

        static string LocalPath(string uri) => uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? new Uri(uri).LocalPath : uri;
    }

    /// <summary>
    /// Creates the next version of <paramref name="name"/>. A version of an MLflow 3 logged model (<paramref name="modelId"/>,
    /// or a <c>models:/&lt;model_id&gt;</c> source) keeps its source as given and stores where the model's files are (the
    /// logged model's artifact location) as its storage location, with the model's source run as its run unless one is
    /// given, as MLflow's registry stores do, and is listed in the model's <c>mlflow.modelVersions</c> tag. A version of
    /// another registered version (<c>models:/NAME/VERSION</c>, <c>@ALIAS</c>, <c>/latest</c>, <c>/STAGE</c>) stores that
    /// version's download URI as its storage location.
    /// </summary>
    public async Task<ModelVersion> CreateVersionAsync(string name, string source, string? runId = null, IReadOnlyList<TrackingTag>? tags = null, string? runLink = null, string? description = null, string? userId = null,
        string? modelId = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(source))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'source'. See the API docs for more information about request parameters.");
        }

        TrackingValidation.Length("Source", 5000, source);
        TrackingValidation.Length("Description", 5000, description);
        foreach (var tag in tags ?? [])
        {
            ValidateTag(tag);
        }

        string? storageLocation = null;
        modelId = string.IsNullOrEmpty(modelId) ? null : modelId;
        var reference = ModelsUri.Parse(source);
        if (reference is { ModelId: { } sourceModel })
        {
            if (modelId is not null && modelId != sourceModel)
            {
                throw TrackingException.Invalid($"Invalid model version source: '{source}' names logged model '{sourceModel}', but model_id is '{modelId}'.");
            }

            modelId = sourceModel;
        }

        if (modelId is not null)
        {
            var logged = await LoggedModelAsync(modelId, cancellationToken).ConfigureAwait(false);
            runId ??= logged.SourceRunId;
            if (reference?.ModelId is not null)
            {
                storageLocation = logged.ArtifactLocation;
            }
        }

        if (reference is { Name: { } referencedName })
        {
            storageLocation = (await ReferencedVersionAsync(source, referencedName, reference, cancellationToken).ConfigureAwait(false)).DownloadUri;
        }

        if (storageLocation is null)
        {
            await ValidateSourceAsync(source, runId, cancellationToken).ConfigureAwait(false);
        }

        // Two writers may pick the same next number; the primary key refuses one, which then tries again.
        for (var attempt = 0; ; attempt++)
        {
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            var version = 1 + await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, run_link, status, model_id, storage_location) " +
                    "VALUES (@name, @version, @now, @now, @description, @userId, @stage, @source, @runId, @runLink, 'READY', @modelId, @storageLocation)",
                    new { name, version, now = Now, description, userId, stage = ModelStages.None, source, runId, runLink, modelId, storageLocation }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception) && attempt < MaxVersionNumberAttempts)
            {
                continue;
            }

            foreach (var tag in tags ?? [])
            {
                await UpsertAsync(connection, transaction, "model_version_tags", new { name, version, key = tag.Key, value = tag.Value },
                    "name, version, key, value", "@name, @version, @key, @value", "name, version, key", cancellationToken).ConfigureAwait(false);
            }

            if (modelId is not null && !(tags ?? []).Any(tag => tag.Key == PromptTagKey))
            {
                await AddModelVersionsTagAsync(connection, transaction, modelId, name, version, cancellationToken).ConfigureAwait(false);
            }

            await connection.ExecuteAsync(new CommandDefinition("UPDATE registered_models SET last_updated_time = @now WHERE name = @name",
                new { name, now = Now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await AuditAsync(connection, transaction, "create", "model_version", VersionResource(name, version), source, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return await GetVersionAsync(name, version.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The registered version a <c>models:/NAME/VERSION</c>, <c>models:/NAME@ALIAS</c>, <c>models:/NAME/latest</c> or
    /// <c>models:/NAME/STAGE</c> source names, whose files the new version is (MLflow's registry stores store the
    /// referenced version's download URI as the new version's storage location). A reference that does not resolve is
    /// refused with MLflow's message and the reason, with the reason's error code.
    /// </summary>
    private async Task<ModelVersion> ReferencedVersionAsync(string source, string name, ModelsUri reference, CancellationToken cancellationToken)
    {
        try
        {
            if (reference.Version is { } version)
            {
                return await GetVersionAsync(name, version, cancellationToken).ConfigureAwait(false);
            }

            if (reference.Alias is { } alias)
            {
                return await GetVersionByAliasAsync(name, alias, cancellationToken).ConfigureAwait(false);
            }

            var stages = reference.Stage is { } stage ? new[] { ModelStages.Canonical(stage) } : null;
            return (await GetLatestVersionsAsync(name, stages, cancellationToken).ConfigureAwait(false)).MaxBy(latest => long.Parse(latest.Version, CultureInfo.InvariantCulture))
                   ?? throw TrackingException.NotFound($"No versions of model with name '{name}'{(reference.Stage is null ? "" : $" and stage '{stages![0]}'")} found");
        }
        catch (TrackingException exception)
        {
            throw new TrackingException(exception.Code, $"Unable to fetch model from model URI source artifact location '{source}'. Error: {exception.Message}");
        }
    }

    /// <summary>
    /// Records the new version on the logged model it was registered from, in the model's <c>mlflow.modelVersions</c>
    /// tag (a JSON list of <c>{"name", "version"}</c>), as MLflow's server does after creating a version with a
    /// <c>model_id</c> (<c>set_model_versions_tags</c>, the version a number); the list's text is kept and the version
    /// appended once (an entry with the version as a string counts too). A tag
    /// that is not a JSON list is replaced by one.
    /// </summary>
    private async Task AddModelVersionsTagAsync(DbConnection connection, DbTransaction transaction, string modelId, string name, long version, CancellationToken cancellationToken)
    {
        var versionText = version.ToString(CultureInfo.InvariantCulture);
        // MLflow's version is the registry's integer here (json.dumps of {"name": name, "version": 1}).
        var entry = $"{{\"name\": {JsonSerializer.Serialize(name)}, \"version\": {versionText}}}";
        var existing = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT value FROM logged_model_tags WHERE model_id = @modelId AND key = @key", new { modelId, key = ModelVersionsTagKey }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        JsonArray? list = null;
        try
        {
            list = existing is null ? null : JsonNode.Parse(existing) as JsonArray;
        }
        catch (JsonException)
        {
            // Replaced below.
        }

        string value;
        if (list is null)
        {
            value = $"[{entry}]";
        }
        else if (list.Any(item => item is JsonObject listed && listed["name"]?.GetValueKind() == JsonValueKind.String && (string?)listed["name"] == name
                                  && listed["version"] is JsonValue listedVersion && listedVersion.ToJsonString().Trim('"') == versionText))
        {
            return;
        }
        else
        {
            var text = existing!.TrimEnd();
            value = $"{text[..^1].TrimEnd()}{(list.Count == 0 ? "" : ", ")}{entry}]";
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO logged_model_tags (model_id, key, value) VALUES (@modelId, @key, @value) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
            new { modelId, key = ModelVersionsTagKey, value }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("UPDATE logged_models SET last_updated_timestamp = @now WHERE model_id = @modelId",
            new { modelId, now = Now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private async Task<(string? SourceRunId, string ArtifactLocation)> LoggedModelAsync(string modelId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<LoggedModelRow>(new CommandDefinition(
            "SELECT source_run_id AS SourceRunId, artifact_location AS ArtifactLocation FROM logged_models WHERE model_id = @modelId AND lifecycle_stage = 'active'",
            new { modelId }, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw TrackingException.NotFound($"Logged model with ID '{modelId}' not found.");
        return (row.SourceRunId, row.ArtifactLocation);
    }

    private sealed record LoggedModelRow(string? SourceRunId, string ArtifactLocation);

    public async Task<ModelVersion> GetVersionAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        var number = ParseVersion(version);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<VersionRow>(new CommandDefinition(
            $"SELECT {VersionColumns} FROM model_versions WHERE name = @name AND version = @number", new { name, number }, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw VersionNotFound(name, number);
        return (await CompleteVersionsAsync(connection, [row], cancellationToken).ConfigureAwait(false))[0];
    }

    public async Task<ModelVersion> UpdateVersionAsync(string name, string version, string? description, CancellationToken cancellationToken = default)
    {
        TrackingValidation.Length("Description", 5000, description);
        var number = ParseVersion(version);
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await RequireVersionAsync(connection, transaction, name, number, cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition("UPDATE model_versions SET description = @description, last_updated_time = @now WHERE name = @name AND version = @number",
                new { name, number, description, now = Now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await AuditAsync(connection, transaction, "update", "model_version", VersionResource(name, number), description, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return await GetVersionAsync(name, version, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteVersionAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        var number = ParseVersion(version);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await RequireVersionAsync(connection, transaction, name, number, cancellationToken).ConfigureAwait(false);
        foreach (var table in new[] { "model_version_tags", "registered_model_aliases", "model_versions" })
        {
            await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM {table} WHERE name = @name AND version = @number",
                new { name, number }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await AuditAsync(connection, transaction, "delete", "model_version", VersionResource(name, number), null, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves a version to a stage; with <paramref name="archiveExisting"/>, the versions already in Staging or Production go to Archived.</summary>
    public async Task<ModelVersion> TransitionStageAsync(string name, string version, string stage, bool archiveExisting, CancellationToken cancellationToken = default)
    {
        var number = ParseVersion(version);
        var canonical = ModelStages.Canonical(stage);
        if (archiveExisting && canonical is not (ModelStages.Staging or ModelStages.Production))
        {
            // MLflow's registry stores (transition_model_version_stage) refuse this rather than ignore the flag.
            throw TrackingException.Invalid(
                $"Model version transition cannot archive existing model versions because '{stage}' is not an Active stage. Valid stages are ['{ModelStages.Staging}', '{ModelStages.Production}']");
        }

        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await RequireVersionAsync(connection, transaction, name, number, cancellationToken).ConfigureAwait(false);
            var from = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                "SELECT current_stage FROM model_versions WHERE name = @name AND version = @number", new { name, number }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            var archived = 0;
            if (archiveExisting)
            {
                archived = await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE model_versions SET current_stage = @archived, last_updated_time = @now WHERE name = @name AND current_stage = @stage AND version <> @number",
                    new { name, number, stage = canonical, archived = ModelStages.Archived, now = Now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            await connection.ExecuteAsync(new CommandDefinition("UPDATE model_versions SET current_stage = @stage, last_updated_time = @now WHERE name = @name AND version = @number",
                new { name, number, stage = canonical, now = Now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await AuditAsync(connection, transaction, "transition_stage", "model_version", VersionResource(name, number),
                $"{from} -> {canonical}{(archived > 0 ? $" (archived {archived} other version(s))" : "")}", cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return await GetVersionAsync(name, version, cancellationToken).ConfigureAwait(false);
    }

    public async Task SetVersionTagAsync(string name, string version, TrackingTag tag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tag);
        ValidateTag(tag);
        var number = ParseVersion(version);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await RequireVersionAsync(connection, transaction, name, number, cancellationToken).ConfigureAwait(false);
        await UpsertAsync(connection, transaction, "model_version_tags", new { name, version = number, key = tag.Key, value = tag.Value },
            "name, version, key, value", "@name, @version, @key, @value", "name, version, key", cancellationToken).ConfigureAwait(false);
        await AuditAsync(connection, transaction, "set_tag", "model_version", VersionResource(name, number), $"{tag.Key}={tag.Value}", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteVersionTagAsync(string name, string version, string key, CancellationToken cancellationToken = default)
    {
        var number = ParseVersion(version);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await RequireVersionAsync(connection, transaction, name, number, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM model_version_tags WHERE name = @name AND version = @number AND key = @key",
            new { name, number, key }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await AuditAsync(connection, transaction, "delete_tag", "model_version", VersionResource(name, number), key, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<ModelVersionPage> SearchVersionsAsync(RegistrySearch search, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        var maxResults = search.MaxResults ?? 10_000;
        if (maxResults <= 0 || maxResults > 200_000)
        {
            throw TrackingException.Invalid($"Invalid value for max_results. It must be at most 200000, but got value {maxResults}");
        }

        var tokenQuery = TokenQuery("model_versions", search);
        var offset = PageToken.ParseOffset(search.PageToken, tokenQuery);
        var parameters = new DynamicParameters();
        var where = string.Concat(SearchFilterParser.Parse(search.Filter).Select((clause, index) => " AND " + clause switch
        {
            { Kind: SearchKeyKind.Attribute, Key: "name" } => Compare(clause, "v.name", $"p{index}", parameters, search.Filter!),
            { Kind: SearchKeyKind.Attribute, Key: "run_id" } => Compare(clause, "v.run_id", $"p{index}", parameters, search.Filter!),
            { Kind: SearchKeyKind.Attribute, Key: "version_number" } => CompareVersion(clause, $"p{index}", parameters, search.Filter!),
            { Kind: SearchKeyKind.Attribute, Key: "source_path" or "source" } => Compare(clause, "v.source", $"p{index}", parameters, search.Filter!),
            { Kind: SearchKeyKind.Attribute, Key: "current_stage" } => Compare(clause, "v.current_stage", $"p{index}", parameters, search.Filter!),
            { Kind: SearchKeyKind.Tag } => TagExists("model_version_tags t WHERE t.name = v.name AND t.version = v.version", clause, $"p{index}", parameters, search.Filter!),
            _ => throw TrackingException.Invalid($"Invalid filter '{search.Filter}': model versions can be searched by name, version_number, run_id, source_path, current_stage and tags."),
        }));
        var order = OrderBy(search.OrderBy, new Dictionary<string, string>
        {
            ["name"] = "v.name",
            ["version_number"] = "v.version",
            ["timestamp"] = "v.last_updated_time",
            ["last_updated_timestamp"] = "v.last_updated_time",
            ["creation_timestamp"] = "v.creation_time",
        }, "v.name ASC, v.version DESC", "v.name ASC, v.version DESC");
        parameters.Add("limit", maxResults + 1);
        parameters.Add("offset", offset);

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<VersionRow>(new CommandDefinition(
            $"SELECT {VersionColumns.Replace("name AS", "v.name AS", StringComparison.Ordinal).Replace(", version AS", ", v.version AS", StringComparison.Ordinal)} FROM model_versions v WHERE 1 = 1{where} ORDER BY {order} LIMIT @limit OFFSET @offset",
            parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var next = PageToken.Next(offset, maxResults, rows.Count, tokenQuery);
        return new ModelVersionPage(await CompleteVersionsAsync(connection, rows.Take(maxResults).ToList(), cancellationToken).ConfigureAwait(false), next);
    }

    /// <summary>What a registry search's page token is tied to: its filter and order, which decide what its offset counts through.</summary>
    private static PageTokenQuery TokenQuery(string name, RegistrySearch search) => new PageTokenQuery(name).WithFilter(search.Filter).WithOrderBy(search.OrderBy);

    private string Compare(SearchClause clause, string column, string parameter, DynamicParameters parameters, string filter)
    {
        switch (clause.Comparator)
        {
            case "=" or "!=" or "LIKE" when clause.Value.Text is { } text:
                parameters.Add(parameter, text);
                return $"{column} {clause.Comparator} @{parameter}";
            case "ILIKE" when clause.Value.Text is { } text:
                parameters.Add(parameter, text);
                return database.Engine == DatabaseEngine.Postgres ? $"{column} ILIKE @{parameter}" : $"LOWER({column}) LIKE LOWER(@{parameter})";
            case "IN" or "NOT IN" when clause.Value.List is { } list:
                var names = list.Select((item, i) =>
                {
                    parameters.Add($"{parameter}_{i}", item);
                    return $"@{parameter}_{i}";
                });
                return $"{column} {clause.Comparator} ({string.Join(", ", names)})";
            default:
                throw TrackingException.Invalid($"Invalid filter '{filter}': '{clause.Key}' takes =, !=, LIKE, ILIKE with a quoted string, or IN / NOT IN with a list.");
        }
    }

    /// <summary>
    /// <c>version_number</c>, one of MLflow's numeric model version attributes (SearchModelVersionUtils.NUMERIC_ATTRIBUTES):
    /// compared as a number with =, !=, &lt;, &lt;=, &gt; or &gt;=.
    /// </summary>
    private static string CompareVersion(SearchClause clause, string parameter, DynamicParameters parameters, string filter)
    {
        if (clause.Comparator is not ("=" or "!=" or "<" or "<=" or ">" or ">="))
        {
            throw TrackingException.Invalid($"Invalid filter '{filter}': 'version_number' takes =, !=, <, <=, > or >= with a whole number.");
        }

        var number = clause.Value.Number is { } value && value == Math.Floor(value) && Math.Abs(value) < long.MaxValue ? (long?)value
            : long.TryParse(clause.Value.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var text) ? text
            : null;
        if (number is null)
        {
            throw TrackingException.Invalid($"Invalid filter '{filter}': 'version_number' is compared with a whole number, as in version_number > 3.");
        }

        parameters.Add(parameter, number.Value);
        return $"v.version {clause.Comparator} @{parameter}";
    }

    private string TagExists(string from, SearchClause clause, string parameter, DynamicParameters parameters, string filter)
    {
        parameters.Add(parameter + "_key", clause.Key);
        return $"EXISTS (SELECT 1 FROM {from} AND t.key = @{parameter}_key AND {Compare(clause, "t.value", parameter, parameters, filter)})";
    }

    private static string OrderBy(IReadOnlyList<string>? orderBy, Dictionary<string, string> columns, string defaultOrder, string tieBreak)
    {
        if (orderBy is null || orderBy.Count == 0)
        {
            return defaultOrder;
        }

        var parts = orderBy.Select(item =>
        {
            var words = item.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length is 0 or > 2 || !columns.TryGetValue(words[0], out var column)
                || (words.Length == 2 && !words[1].Equals("ASC", StringComparison.OrdinalIgnoreCase) && !words[1].Equals("DESC", StringComparison.OrdinalIgnoreCase)))
            {
                throw TrackingException.Invalid($"Invalid order_by clause '{item}': order by {string.Join(", ", columns.Keys)}, optionally followed by ASC or DESC.");
            }

            return $"{column} {(words.Length == 2 ? words[1].ToUpperInvariant() : "ASC")}";
        }).ToList();
        parts.Add(tieBreak);
        return string.Join(", ", parts);
    }

    private async Task WithModelAsync(string name, Func<DbConnection, DbTransaction, Task> action, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
        await action(connection, transaction).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task UpsertAsync(DbConnection connection, DbTransaction transaction, string table, object values, string columns, string parameters, string key, CancellationToken cancellationToken, string update = "value = excluded.value")
    {
        await connection.ExecuteAsync(new CommandDefinition($"INSERT INTO {table} ({columns}) VALUES ({parameters}) ON CONFLICT ({key}) DO UPDATE SET {update}",
            values, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private static async Task RequireModelAsync(DbConnection connection, DbTransaction transaction, string name, CancellationToken cancellationToken)
    {
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM registered_models WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 0)
        {
            throw ModelNotFound(name);
        }
    }

    private static async Task RequireVersionAsync(DbConnection connection, DbTransaction transaction, string name, long number, CancellationToken cancellationToken)
    {
        await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM model_versions WHERE name = @name AND version = @number", new { name, number }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 0)
        {
            throw VersionNotFound(name, number);
        }
    }

    /// <summary>Tags, aliases and latest versions of a page of models: three queries for the page, not three per model.</summary>
    private static async Task<List<RegisteredModel>> CompleteModelsAsync(DbConnection connection, List<ModelRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var (names, parameters) = NameList(rows.Select(row => row.Name));
        var tags = (await connection.QueryAsync<NamedTagRow>(new CommandDefinition(
            $"SELECT name AS Name, key AS Key, value AS Value FROM registered_model_tags WHERE name IN {names} ORDER BY key", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(tag => tag.Name, StringComparer.Ordinal);
        var aliases = (await connection.QueryAsync<NamedAliasRow>(new CommandDefinition(
            $"SELECT name AS Name, alias AS Alias, version AS Version FROM registered_model_aliases WHERE name IN {names} ORDER BY alias", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(alias => alias.Name, StringComparer.Ordinal);
        // The latest version in each stage, as MLflow's latest_versions.
        var latest = (await CompleteVersionsAsync(connection, (await connection.QueryAsync<VersionRow>(new CommandDefinition(
            $"SELECT {VersionColumns} FROM model_versions v WHERE name IN {names} AND version = (SELECT MAX(version) FROM model_versions s WHERE s.name = v.name AND s.current_stage = v.current_stage) ORDER BY version",
            parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList(), cancellationToken).ConfigureAwait(false))
            .ToLookup(version => version.Name, StringComparer.Ordinal);
        return rows.Select(row => new RegisteredModel(row.Name, row.CreationTimestamp, row.LastUpdatedTimestamp, row.Description,
            latest[row.Name].ToList(),
            tags[row.Name].Select(tag => new TrackingTag(tag.Key, tag.Value)).ToList(),
            aliases[row.Name].Select(alias => new ModelAlias(alias.Alias, alias.Version.ToString(CultureInfo.InvariantCulture))).ToList())).ToList();
    }

    /// <summary>Tags and aliases of a page of versions, read for their models at once and matched by (name, version).</summary>
    private static async Task<List<ModelVersion>> CompleteVersionsAsync(DbConnection connection, List<VersionRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var (names, parameters) = NameList(rows.Select(row => row.Name).Distinct(StringComparer.Ordinal));
        var (versions, _) = NameList(rows.Select(row => row.Version).Distinct().Cast<object>(), parameters, "v");
        var tags = (await connection.QueryAsync<VersionTagRow>(new CommandDefinition(
            $"SELECT name AS Name, version AS Version, key AS Key, value AS Value FROM model_version_tags WHERE name IN {names} AND version IN {versions} ORDER BY key", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(tag => (tag.Name, tag.Version));
        var aliases = (await connection.QueryAsync<NamedAliasRow>(new CommandDefinition(
            $"SELECT name AS Name, alias AS Alias, version AS Version FROM registered_model_aliases WHERE name IN {names} AND version IN {versions} ORDER BY alias", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToLookup(alias => (alias.Name, alias.Version));
        return rows.Select(row => new ModelVersion(row.Name, row.Version.ToString(CultureInfo.InvariantCulture), row.CreationTimestamp, row.LastUpdatedTimestamp, row.Description, row.UserId,
            row.CurrentStage, row.Source, row.RunId, row.RunLink, row.Status, row.StatusMessage,
            tags[(row.Name, row.Version)].Select(tag => new TrackingTag(tag.Key, tag.Value)).ToList(),
            aliases[(row.Name, row.Version)].Select(alias => alias.Alias).ToList()) { ModelId = row.ModelId, StorageLocation = row.StorageLocation }).ToList();
    }

    /// <summary>An SQL list <c>(@n0, @n1, …)</c> of explicit parameters (not Dapper's list expansion, which Npgsql turns into an array).</summary>
    private static (string List, DynamicParameters Parameters) NameList(IEnumerable<object> values, DynamicParameters? parameters = null, string prefix = "n")
    {
        parameters ??= new DynamicParameters();
        var names = new List<string>();
        foreach (var value in values)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}{names.Count}");
            parameters.Add(name, value);
            names.Add("@" + name);
        }

        return ("(" + string.Join(", ", names) + ")", parameters);
    }

    private static void ValidateName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw TrackingException.Invalid("Registered model name cannot be empty.");
        }

        TrackingValidation.Length("Registered model name", 256, name);
    }

    private static void ValidateTag(TrackingTag tag)
    {
        TrackingValidation.Key("Tag", tag.Key);
        TrackingValidation.Length("Tag value", 5000, tag.Value);
    }

    private static void ValidateAlias(string alias)
    {
        if (string.IsNullOrEmpty(alias) || alias.Length > 255 || !AliasPattern().IsMatch(alias))
        {
            throw TrackingException.Invalid($"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_) and dashes (-), and must not be longer than 255 characters.");
        }

        if (alias.Equals("latest", StringComparison.OrdinalIgnoreCase) || VersionLikeAlias().IsMatch(alias))
        {
            throw TrackingException.Invalid($"'{alias}' alias name (case insensitive) is reserved.");
        }
    }

    private static long ParseVersion(string version) =>
        long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw TrackingException.Invalid($"Parameter 'version' must be an integer, got '{version}'.");

    private static TrackingException ModelNotFound(string name) => TrackingException.NotFound($"Registered Model with name={name} not found");

    private static TrackingException VersionNotFound(string name, long version) => TrackingException.NotFound($"Model Version (name={name}, version={version}) not found");

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex AliasPattern();

    [GeneratedRegex("^[vV][0-9]+$")]
    private static partial Regex VersionLikeAlias();

    private sealed record ModelRow(string Name, long CreationTimestamp, long LastUpdatedTimestamp, string? Description);

    private sealed record NamedAliasRow(string Name, string Alias, long Version);

    private sealed record NamedTagRow(string Name, string Key, string? Value);

    private sealed record VersionTagRow(string Name, long Version, string Key, string? Value);

    private sealed record VersionRow(string Name, long Version, long CreationTimestamp, long LastUpdatedTimestamp, string? Description, string? UserId, string CurrentStage, string Source, string? RunId, string? RunLink, string Status, string? StatusMessage,
        string? ModelId, string? StorageLocation);
}
