using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ballast.Datasets;
using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Monitoring;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, UseStringEnumConverter = true)]
[JsonSerializable(typeof(MonitorSpec))]
[JsonSerializable(typeof(MonitorResults))]
internal sealed partial class MonitorJsonContext : JsonSerializerContext;

/// <summary>
/// Monitors and their closed windows in the metadata database. Creating or changing a monitor checks that its endpoint
/// and reference dataset exist, and that the dataset table's profile has the columns the monitor needs
/// (<see cref="MonitorReferenceColumns"/>); a window is stored once per (monitor, start), whoever computed it.
/// </summary>
public sealed class MonitorStore(MetadataDatabase database, EndpointStore endpoints, DatasetStore datasets, TimeProvider time, RunStore? runs = null,
    Storage.IArtifactStore? artifacts = null, Registry.RegistryStore? registry = null)
{
    public const int MaxPage = 500;

    public async Task<StoredMonitor> CreateAsync(MonitorSpec spec, CancellationToken cancellationToken = default)
    {
        spec = await CheckAsync(spec, cancellationToken).ConfigureAwait(false);
        var now = Now;
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO monitors (name, endpoint, spec, created_at, updated_at) VALUES (@Name, @Endpoint, @json, @now, @now)",
                new { spec.Name, spec.Endpoint, json = Serialize(spec), now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            throw TrackingException.AlreadyExists($"Monitor '{spec.Name}' already exists; PUT /api/v1/monitors/{spec.Name} (or `ballast apply`) changes it.");
        }

        return new StoredMonitor(spec, now, now);
    }

    /// <summary>Creates or replaces a monitor; its windows so far stay (the next window uses the new spec).</summary>
    public async Task<(StoredMonitor Monitor, bool Created)> PutAsync(MonitorSpec spec, CancellationToken cancellationToken = default)
    {
        spec = await CheckAsync(spec, cancellationToken).ConfigureAwait(false);
        var now = Now;
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var existed = await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM monitors WHERE name = @Name", new { spec.Name }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO monitors (name, endpoint, spec, created_at, updated_at) VALUES (@Name, @Endpoint, @json, @now, @now) " +
            "ON CONFLICT (name) DO UPDATE SET endpoint = excluded.endpoint, spec = excluded.spec, updated_at = excluded.updated_at WHERE monitors.spec <> excluded.spec",
            new { spec.Name, spec.Endpoint, json = Serialize(spec), now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return (await GetAsync(spec.Name, cancellationToken).ConfigureAwait(false), !existed);
    }

    public async Task<StoredMonitor> GetAsync(string name, CancellationToken cancellationToken = default) =>
        await FindAsync(name, cancellationToken).ConfigureAwait(false) ?? throw TrackingException.NotFound($"Monitor '{name}' does not exist.");

    public async Task<StoredMonitor?> FindAsync(string name, CancellationToken cancellationToken = default) =>
        (await QueryAsync("WHERE name = @name", new { name }, cancellationToken).ConfigureAwait(false)).SingleOrDefault();

    public Task<IReadOnlyList<StoredMonitor>> ListAsync(CancellationToken cancellationToken = default) => QueryAsync("", null, cancellationToken);

    /// <summary>The spans of traffic that monitors read as their reference, which the prediction log's retention keeps.</summary>
    public async Task<IReadOnlyList<KeptRange>> TrafficReferencesAsync(CancellationToken cancellationToken = default)
    {
        var ranges = new List<KeptRange>();
        var problems = new List<string>();
        foreach (var monitor in await ListAsync(cancellationToken).ConfigureAwait(false))
        {
            // A dataset or run reference has no from and to; stored monitors were validated, so the times parse.
            if (monitor.Spec is { Endpoint: { } endpoint, Reference: { From: { } from, To: { } to } }
                && MonitorValidation.Time(from, "reference.from", problems) is { } start
                && MonitorValidation.Time(to, "reference.to", problems) is { } end)
            {
                ranges.Add(new KeptRange(endpoint, start, end));
            }
        }

        return ranges;
    }

    /// <summary>Deletes a monitor and its windows.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var deleted = await connection.ExecuteAsync(new CommandDefinition("DELETE FROM monitors WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (deleted == 0)
        {
            throw TrackingException.NotFound($"Monitor '{name}' does not exist.");
        }

        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM monitor_windows WHERE monitor = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores a closed window without log positions (a time window); null when that window is already stored.</summary>
    public Task<StoredMonitorWindow?> AddWindowAsync(string monitor, long start, long end, long rows, string status, MonitorResults results, CancellationToken cancellationToken = default) =>
        AddWindowAsync(monitor, start, end, rows, status, results, null, null, cancellationToken);

    /// <summary>
    /// Stores a closed window; null when that window (same monitor, start and position it starts after) is already
    /// stored. A row window gives its exact bounds: the record it starts after (stamped <paramref name="start"/>) and its last.
    /// </summary>
    public async Task<StoredMonitorWindow?> AddWindowAsync(string monitor, long start, long end, long rows, string status, MonitorResults results, LogPosition? after, LogPosition? last,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (after is not null && after.Timestamp != start)
        {
            throw new ArgumentException($"A window starting after a record starts at its time ({after.Timestamp}), not {start}.", nameof(after));
        }

        var now = Now;
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "INSERT INTO monitor_windows (monitor, start_at, end_at, rows, status, results, computed_at, " +
                "after_at, after_instance, after_sequence, after_prediction_id, last_at, last_instance, last_sequence, last_prediction_id) " +
                "VALUES (@monitor, @start, @end, @rows, @status, @json, @now, @afterAt, @afterInstance, @afterSequence, @afterId, @lastAt, @lastInstance, @lastSequence, @lastId) RETURNING id",
                new
                {
                    monitor, start, end, rows, status, json = JsonSerializer.Serialize(results, MonitorJsonContext.Default.MonitorResults), now,
                    afterAt = after?.Timestamp, afterInstance = after?.Instance, afterSequence = after?.Sequence, afterId = after?.PredictionId,
                    lastAt = last?.Timestamp, lastInstance = last?.Instance, lastSequence = last?.Sequence, lastId = last?.PredictionId,
                }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return new StoredMonitorWindow(id, monitor, start, end, rows, status, results, now, after, last);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            return null;
        }
    }

    /// <summary>A monitor's windows, newest first, <paramref name="limit"/> at a time; <paramref name="before"/> (a window id) pages on.</summary>
    public async Task<IReadOnlyList<StoredMonitorWindow>> WindowsAsync(string monitor, int limit = 50, long? before = null, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > MaxPage)
        {
            throw TrackingException.Invalid($"limit {limit} must be between 1 and {MaxPage}.");
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<WindowRow>(new CommandDefinition(
            $"SELECT {WindowColumns} FROM monitor_windows WHERE monitor = @monitor {(before is null ? "" : "AND id < @before")} ORDER BY start_at DESC, id DESC LIMIT @limit",
            new { monitor, before, limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => row.ToWindow()).ToList();
    }

    public async Task<StoredMonitorWindow> GetWindowAsync(string monitor, long id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<WindowRow>(new CommandDefinition(
            $"SELECT {WindowColumns} FROM monitor_windows WHERE monitor = @monitor AND id = @id", new { monitor, id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is null)
        {
            // Which of the two is missing: the monitor, or its window.
            await GetAsync(monitor, cancellationToken).ConfigureAwait(false);
            throw TrackingException.NotFound($"Monitor '{monitor}' has no window {id}.");
        }

        return row.ToWindow();
    }

    /// <summary>
    /// Where the newest window ends: its end (Unix ms) and, for a row window, its last record; null before the first
    /// window. Windows follow one another (each starts where the one before ended), so the newest is the last stored:
    /// row windows can end in the same millisecond, and one closed by <c>evaluate</c> can end later than the next one's
    /// last record.
    /// </summary>
    public async Task<MonitorWindowEnd?> LastEndAsync(string monitor, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<WindowRow>(new CommandDefinition(
            $"SELECT {PositionColumns}, end_at AS EndAt FROM monitor_windows WHERE monitor = @monitor ORDER BY id DESC LIMIT 1", new { monitor }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null ? null : new MonitorWindowEnd(row.EndAt, row.LastPosition);
    }

    /// <summary>
    /// The spec's own rules, then what it names (its endpoint, its reference): every problem reported at once. A spec that
    /// breaks its own rules still has its endpoint and reference looked up (whether they exist), not its reference's columns.
    /// </summary>
    private async Task<MonitorSpec> CheckAsync(MonitorSpec spec, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        try
        {
            spec = MonitorValidation.Validate(spec);
        }
        catch (TrackingException exception) when (exception.Problems.Count > 0)
        {
            problems.AddRange(exception.Problems);
        }

        var valid = problems.Count == 0;
        var endpoint = string.IsNullOrEmpty(spec.Endpoint) ? null : await endpoints.FindAsync(spec.Endpoint, cancellationToken).ConfigureAwait(false);
        if (endpoint is null)
        {
            if (!string.IsNullOrEmpty(spec.Endpoint))
            {
                problems.Add($"endpoint '{spec.Endpoint}' does not exist");
            }
        }
        else if (spec.Quality?.FromEndpoint is true && endpoint.Spec.Expectations?.Suite is null)
        {
            problems.Add($"quality.from_endpoint: endpoint '{spec.Endpoint}' has no expectations; give quality.suite instead");
        }

        if (spec.Reference is { } reference && (reference.Dataset is null) != (reference.Run is null) && reference.From is null && reference.To is null
            && (valid || reference.Version is null or >= 1))
        {
            try
            {
                (string Name, TableProfile? Profile) table;
                if (reference.Run is { } run)
                {
                    var source = await MonitorRunReference.ResolveAsync(runs, datasets, artifacts, run, reference.File, cancellationToken).ConfigureAwait(false);
                    table = (source.Name, source.Profile);
                }
                else
                {
                    var version = await datasets.GetVersionAsync(new DatasetReference(reference.Dataset!, reference.Version), cancellationToken).ConfigureAwait(false);
                    var file = MonitorReferenceFile.Choose(version, reference.File);
                    table = ($"{version.Reference} {file.Path}", MonitorReferenceFile.ProfileOf(version, file));
                }

                if (valid)
                {
                    problems.AddRange(MonitorReferenceColumns.Problems(spec, table.Name, table.Profile, await ScorersAsync(spec, endpoint, cancellationToken).ConfigureAwait(false)));
                }
            }
            catch (TrackingException exception) when (exception.Code is TrackingException.ResourceDoesNotExist or TrackingException.InvalidParameterValue)
            {
                problems.Add($"reference: {exception.Message.TrimEnd('.')}");
            }
        }

        return problems.Count == 0 ? spec : throw TrackingException.Invalid($"Invalid monitor '{spec.Name}'", problems);
    }

    /// <summary>
    /// How each variant of the endpoint would score a CBPE reference (<see cref="ReferenceScorer"/>): the columns its
    /// registered model's signature reads, or why it cannot (a url variant, an input of no fixed width). Null when that is
    /// not known for every variant (no registry here, a model not registered or without a signature, an ensemble whose
    /// combination is scored too): such a reference is left to the window.
    /// </summary>
    private async Task<IReadOnlyList<MonitorReferenceColumns.Scorer>?> ScorersAsync(MonitorSpec spec, StoredEndpoint? endpoint, CancellationToken cancellationToken)
    {
        if (registry is null || spec.Estimated is null || endpoint is null)
        {
            return null;
        }

        var scorers = new List<MonitorReferenceColumns.Scorer>();
        foreach (var variant in endpoint.Spec.Variants ?? [])
        {
            if (variant.Model is null)
            {
                scorers.Add(new MonitorReferenceColumns.Scorer(variant.Name, null, [], $"calls a model on another server ({variant.Url})"));
                continue;
            }

            Runtime.ModelSignature? signature;
            try
            {
                signature = Registry.ModelRegistration.SignatureOf(await ModelReference.Parse(variant.Model, $"variant '{variant.Name}'").ResolveAsync(registry, cancellationToken).ConfigureAwait(false));
            }
            catch (TrackingException)
            {
                return null;
            }

            if (signature is null)
            {
                return null;
            }

            try
            {
                scorers.Add(new MonitorReferenceColumns.Scorer(variant.Name, variant.Model,
                    signature.Inputs.SelectMany(input => ReferenceScorer.InputColumns(input, spec.FeatureNames).Select(column => (input.Name, column))).ToList()));
            }
            catch (InvalidOperationException exception)
            {
                scorers.Add(new MonitorReferenceColumns.Scorer(variant.Name, variant.Model, [], $"({variant.Model}) cannot score a table: {exception.Message}"));
            }
        }

        return scorers;
    }

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private async Task<IReadOnlyList<StoredMonitor>> QueryAsync(string where, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string Spec, long CreatedAt, long UpdatedAt)>(new CommandDefinition(
            $"SELECT spec, created_at, updated_at FROM monitors {where} ORDER BY name", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new StoredMonitor(JsonSerializer.Deserialize(row.Spec, MonitorJsonContext.Default.MonitorSpec)!, row.CreatedAt, row.UpdatedAt)).ToList();
    }

    internal static string Serialize(MonitorSpec spec) => JsonSerializer.Serialize(spec, MonitorJsonContext.Default.MonitorSpec);

    private const string PositionColumns = "after_at AS AfterAt, after_instance AS AfterInstance, after_sequence AS AfterSequence, after_prediction_id AS AfterPredictionId, " +
        "last_at AS LastAt, last_instance AS LastInstance, last_sequence AS LastSequence, last_prediction_id AS LastPredictionId";

    private const string WindowColumns = "id AS Id, monitor AS Monitor, start_at AS StartAt, end_at AS EndAt, rows AS Rows, status AS Status, results AS Results, computed_at AS ComputedAt, "
        + PositionColumns;

    private sealed class WindowRow
    {
        public long Id { get; set; }

        public string Monitor { get; set; } = "";

        public long StartAt { get; set; }

        public long EndAt { get; set; }

        public long Rows { get; set; }

        public string Status { get; set; } = "";

        public string Results { get; set; } = "";

        public long ComputedAt { get; set; }

        public long? AfterAt { get; set; }

        public string? AfterInstance { get; set; }

        public long? AfterSequence { get; set; }

        public string? AfterPredictionId { get; set; }

        public long? LastAt { get; set; }

        public string? LastInstance { get; set; }

        public long? LastSequence { get; set; }

        public string? LastPredictionId { get; set; }

        public LogPosition? AfterPosition => AfterAt is { } at && AfterPredictionId is { } id ? new LogPosition(at, AfterInstance, AfterSequence, id) : null;

        public LogPosition? LastPosition => LastAt is { } at && LastPredictionId is { } id ? new LogPosition(at, LastInstance, LastSequence, id) : null;

        public StoredMonitorWindow ToWindow() =>
            new(Id, Monitor, StartAt, EndAt, Rows, Status, JsonSerializer.Deserialize(Results, MonitorJsonContext.Default.MonitorResults)!, ComputedAt, AfterPosition, LastPosition);
    }
}
