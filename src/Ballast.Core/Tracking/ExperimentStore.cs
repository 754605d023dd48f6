using System.Data.Common;
using System.Globalization;
using System.Text;
using Ballast.Metadata;
using Ballast.Tracking.Search;
using Dapper;

namespace Ballast.Tracking;

/// <summary>Experiments in the metadata database, with MLflow's semantics: soft delete, restore, unique names, tag upserts.</summary>
public sealed class ExperimentStore(MetadataDatabase database, TimeProvider time)
{
    public const string DefaultExperimentId = "0";

    private const string Columns = "experiment_id AS ExperimentId, name AS Name, artifact_location AS ArtifactLocation, lifecycle_stage AS LifecycleStage, creation_time AS CreationTime, last_update_time AS LastUpdateTime";

    public async Task<string> CreateAsync(string name, string? artifactLocation = null, IReadOnlyList<TrackingTag>? tags = null, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        foreach (var tag in tags ?? [])
        {
            ValidateTag(tag);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM experiments WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0)
        {
            throw Duplicate(name);
        }

        long id;
        try
        {
            id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (@name, @location, @stage, @now, @now) RETURNING experiment_id",
                new { name, location = artifactLocation ?? "", stage = LifecycleStages.Active, now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (string.IsNullOrEmpty(artifactLocation))
            {
                // Artifacts go through the server (mlflow-artifacts), under the experiment's id, as `mlflow server --serve-artifacts`.
                await connection.ExecuteAsync(new CommandDefinition("UPDATE experiments SET artifact_location = @location WHERE experiment_id = @id",
                    new { id, location = $"mlflow-artifacts:/{id}" }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            foreach (var tag in tags ?? [])
            {
                await UpsertTagAsync(connection, transaction, id, tag, cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            throw Duplicate(name);
        }

        return id.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The experiment, deleted or not; throws RESOURCE_DOES_NOT_EXIST when there is none.</summary>
    public async Task<Experiment> GetAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        var id = ParseId(experimentId);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<ExperimentRow>(new CommandDefinition(
            $"SELECT {Columns} FROM experiments WHERE experiment_id = @id", new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw TrackingException.NotFound($"No Experiment with id={experimentId} exists");
        return (await WithTagsAsync(connection, [row], cancellationToken).ConfigureAwait(false))[0];
    }

    public async Task<Experiment> GetByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<ExperimentRow>(new CommandDefinition(
            $"SELECT {Columns} FROM experiments WHERE name = @name", new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw TrackingException.NotFound($"Could not find experiment with name '{name}'");
        return (await WithTagsAsync(connection, [row], cancellationToken).ConfigureAwait(false))[0];
    }

    public async Task<ExperimentPage> SearchAsync(ExperimentSearch search, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        var maxResults = PageToken.MaxResults(search.MaxResults);
        var tokenQuery = new PageTokenQuery("experiments").WithFilter(search.Filter).WithOrderBy(search.OrderBy).WithViewType(search.ViewType);
        var offset = PageToken.ParseOffset(search.PageToken, tokenQuery);
        var parameters = new DynamicParameters();
        var where = new StringBuilder(search.ViewType switch
        {
            ViewType.ActiveOnly => "lifecycle_stage = 'active'",
            ViewType.DeletedOnly => "lifecycle_stage = 'deleted'",
            _ => "1 = 1",
        });
        var index = 0;
        foreach (var clause in SearchFilterParser.Parse(search.Filter))
        {
            where.Append(" AND ").Append(ClauseSql(clause, $"p{index++}", parameters, search.Filter!));
        }

        parameters.Add("limit", maxResults + 1);
        parameters.Add("offset", offset);
        var sql = $"SELECT {Columns} FROM experiments e WHERE {where} ORDER BY {OrderBySql(search.OrderBy)} LIMIT @limit OFFSET @offset";

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<ExperimentRow>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var next = PageToken.Next(offset, maxResults, rows.Count, tokenQuery);
        if (next is not null)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new ExperimentPage(await WithTagsAsync(connection, rows, cancellationToken).ConfigureAwait(false), next);
    }

    public async Task RenameAsync(string experimentId, string newName, CancellationToken cancellationToken = default)
    {
        ValidateName(newName, "new_name");
        var experiment = await GetAsync(experimentId, cancellationToken).ConfigureAwait(false);
        if (experiment.LifecycleStage != LifecycleStages.Active)
        {
            throw new TrackingException(TrackingException.InvalidState, "Cannot rename a non-active experiment.");
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("UPDATE experiments SET name = @newName, last_update_time = @now WHERE experiment_id = @id",
                new { newName, now = time.GetUtcNow().ToUnixTimeMilliseconds(), id = ParseId(experimentId) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            throw Duplicate(newName);
        }
    }

    /// <summary>
    /// Marks the experiment deleted and, in the same transaction, its active runs, as MLflow's
    /// <c>SqlAlchemyStore.delete_experiment</c> does: they leave ACTIVE_ONLY searches and refuse writes. Only an active
    /// experiment can be deleted; any other is RESOURCE_DOES_NOT_EXIST, as MLflow looks it up with ACTIVE_ONLY.
    /// </summary>
    public async Task DeleteAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        var id = ParseId(experimentId);
        if (id == 0)
        {
            throw TrackingException.Invalid("Cannot delete the default experiment '0'. This is an internally reserved experiment.");
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await MoveStageAsync(connection, transaction, experimentId, id, LifecycleStages.Active, LifecycleStages.Deleted, now, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET lifecycle_stage = @deleted, deleted_time = @now, deleted_with_experiment = @marked WHERE experiment_id = @id AND lifecycle_stage = @active",
            new { id, now, deleted = LifecycleStages.Deleted, active = LifecycleStages.Active, marked = true }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes a deleted experiment active again with the runs its deletion deleted. Unlike MLflow, which restores every
    /// run of the experiment, runs deleted on their own (before, or while the experiment was deleted) stay deleted.
    /// An experiment that is not deleted is RESOURCE_DOES_NOT_EXIST, as MLflow looks it up with DELETED_ONLY.
    /// </summary>
    public async Task RestoreAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        var id = ParseId(experimentId);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await MoveStageAsync(connection, transaction, experimentId, id, LifecycleStages.Deleted, LifecycleStages.Active, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET lifecycle_stage = @active, deleted_time = NULL, deleted_with_experiment = @unmarked WHERE experiment_id = @id AND deleted_with_experiment = @marked",
            new { id, active = LifecycleStages.Active, marked = true, unmarked = false }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task SetTagAsync(string experimentId, TrackingTag tag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tag);
        ValidateTag(tag);
        var experiment = await GetAsync(experimentId, cancellationToken).ConfigureAwait(false);
        if (experiment.LifecycleStage != LifecycleStages.Active)
        {
            throw new TrackingException(TrackingException.InvalidState, $"The experiment {experimentId} must be in the 'active' state. Current state is {experiment.LifecycleStage}.");
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await UpsertTagAsync(connection, transaction, ParseId(experimentId), tag, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves the experiment from one stage to the other in one conditional update, so two concurrent calls cannot both succeed.</summary>
    private static async Task MoveStageAsync(DbConnection connection, DbTransaction transaction, string experimentId, long id, string from, string to, long now, CancellationToken cancellationToken)
    {
        var moved = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE experiments SET lifecycle_stage = @to, last_update_time = @now WHERE experiment_id = @id AND lifecycle_stage = @from",
            new { id, from, to, now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (moved == 0)
        {
            throw TrackingException.NotFound($"No Experiment with id={experimentId} exists");
        }
    }

    private static async Task UpsertTagAsync(DbConnection connection, DbTransaction transaction, long id, TrackingTag tag, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (@id, @key, @value) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
            new { id, key = tag.Key, value = tag.Value }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);

    private string ClauseSql(SearchClause clause, string name, DynamicParameters parameters, string filter)
    {
        string Compare(string column, bool numeric)
        {
            var comparator = clause.Comparator;
            var allowed = numeric ? comparator is "=" or "!=" or "<" or "<=" or ">" or ">=" : comparator is "=" or "!=" or "LIKE" or "ILIKE";
            if (!allowed)
            {
                throw TrackingException.Invalid($"Invalid comparator '{comparator}' for '{clause.Key}' in filter '{filter}': use {(numeric ? "=, !=, <, <=, > or >=" : "=, !=, LIKE or ILIKE")}.");
            }

            if (numeric ? clause.Value.Number is null : clause.Value.Text is null)
            {
                throw TrackingException.Invalid($"Invalid value for '{clause.Key}' in filter '{filter}': expected {(numeric ? "a number" : "a quoted string")}.");
            }

            parameters.Add(name, numeric ? (long)clause.Value.Number!.Value : clause.Value.Text);
            // LIKE is case-sensitive on both engines (SQLite connections set case_sensitive_like).
            return comparator != "ILIKE" ? $"{column} {comparator} @{name}"
                : database.Engine == DatabaseEngine.Postgres ? $"{column} ILIKE @{name}"
                : $"LOWER({column}) LIKE LOWER(@{name})";
        }

        return clause.Kind switch
        {
            SearchKeyKind.Attribute => clause.Key switch
            {
                "name" => Compare("e.name", numeric: false),
                "creation_time" => Compare("e.creation_time", numeric: true),
                "last_update_time" => Compare("e.last_update_time", numeric: true),
                _ => throw TrackingException.Invalid($"Invalid attribute key '{clause.Key}' in filter '{filter}': experiments can be searched by name, creation_time and last_update_time."),
            },
            SearchKeyKind.Tag => TagSql(clause.Key, name, parameters, Compare("t.value", numeric: false)),
            _ => throw TrackingException.Invalid($"Invalid key '{clause.Key}' in filter '{filter}': experiments can be searched by attributes and tags only."),
        };

        static string TagSql(string key, string name, DynamicParameters parameters, string comparison)
        {
            parameters.Add(name + "_key", key);
            return $"EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = @{name}_key AND {comparison})";
        }
    }

    private static string OrderBySql(IReadOnlyList<string>? orderBy)
    {
        if (orderBy is null || orderBy.Count == 0)
        {
            return "e.creation_time DESC, e.experiment_id ASC";
        }

        var parts = new List<string>();
        foreach (var item in orderBy)
        {
            var words = item.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var key = words.Length > 0 ? words[0] : "";
            if (key.StartsWith("attributes.", StringComparison.Ordinal))
            {
                key = key["attributes.".Length..];
            }

            var column = key switch
            {
                "name" => "e.name",
                "experiment_id" => "e.experiment_id",
                "creation_time" => "e.creation_time",
                "last_update_time" => "e.last_update_time",
                _ => throw TrackingException.Invalid($"Invalid order_by clause '{item}': experiments can be ordered by name, experiment_id, creation_time or last_update_time."),
            };
            var direction = words.Length switch
            {
                1 => "ASC",
                2 when words[1].Equals("ASC", StringComparison.OrdinalIgnoreCase) => "ASC",
                2 when words[1].Equals("DESC", StringComparison.OrdinalIgnoreCase) => "DESC",
                _ => throw TrackingException.Invalid($"Invalid order_by clause '{item}': give a key optionally followed by ASC or DESC."),
            };
            parts.Add($"{column} {direction}");
        }

        if (!parts.Exists(part => part.StartsWith("e.experiment_id", StringComparison.Ordinal)))
        {
            parts.Add("e.experiment_id ASC");
        }

        return string.Join(", ", parts);
    }

    private static async Task<List<Experiment>> WithTagsAsync(DbConnection connection, List<ExperimentRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var ids = rows.Select(row => row.ExperimentId).ToArray();
        var tags = (await connection.QueryAsync<TagRow>(new CommandDefinition(
            $"SELECT experiment_id AS ExperimentId, key AS Key, value AS Value FROM experiment_tags WHERE experiment_id IN ({string.Join(",", ids)}) ORDER BY key",
            cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(tag => tag.ExperimentId);
        return rows.Select(row => new Experiment(
            row.ExperimentId.ToString(CultureInfo.InvariantCulture), row.Name, row.ArtifactLocation, row.LifecycleStage, row.CreationTime, row.LastUpdateTime,
            tags[row.ExperimentId].Select(tag => new TrackingTag(tag.Key, tag.Value)).ToList())).ToList();
    }

    private static long ParseId(string experimentId) =>
        long.TryParse(experimentId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw TrackingException.Invalid($"Invalid value '{experimentId}' for parameter 'experiment_id': experiment ids are non-negative integers.");

    private static void ValidateName(string? name, string parameter = "name")
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw TrackingException.Invalid($"Invalid experiment name: '{name}'. Experiment names must be non-empty (parameter '{parameter}').");
        }

        if (name.Length > TrackingLimits.MaxExperimentNameLength)
        {
            throw TrackingException.Invalid($"Experiment name is {name.Length} characters long; the limit is {TrackingLimits.MaxExperimentNameLength}.");
        }
    }

    private static void ValidateTag(TrackingTag tag)
    {
        if (string.IsNullOrEmpty(tag.Key))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'key'. See the API docs for more information about request parameters.");
        }

        if (tag.Key.Length > TrackingLimits.MaxEntityKeyLength)
        {
            throw TrackingException.Invalid($"Tag key '{tag.Key[..20]}...' had length {tag.Key.Length}, which exceeded length limit of {TrackingLimits.MaxEntityKeyLength}");
        }

        if (tag.Value is { Length: > TrackingLimits.MaxTagValueLength })
        {
            throw TrackingException.Invalid($"Tag value '{tag.Value[..20]}...' had length {tag.Value.Length}, which exceeded length limit of {TrackingLimits.MaxTagValueLength}");
        }
    }

    private static TrackingException Duplicate(string name) => TrackingException.AlreadyExists($"Experiment(name={name}) already exists.");

    private sealed record ExperimentRow(long ExperimentId, string Name, string ArtifactLocation, string LifecycleStage, long CreationTime, long LastUpdateTime);

    private sealed record TagRow(long ExperimentId, string Key, string? Value);
}
