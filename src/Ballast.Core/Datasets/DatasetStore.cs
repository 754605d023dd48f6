using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ballast.Metadata;
using Ballast.Storage;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Datasets;

/// <summary>
/// Versioned datasets with DVC's semantics. Files are stored once under their SHA-256 in the artifact store
/// (<see cref="BlobFolder"/>); a version is the manifest of (path, size, SHA-256) plus the profile of its CSV, TSV
/// and Parquet files. The manifest's digest identifies the bytes: adding the same files again returns the version
/// that already has them. Version numbers count up per dataset without gaps, also under concurrent adds.
/// </summary>
public sealed partial class DatasetStore(MetadataDatabase database, IArtifactStore artifacts, TimeProvider time, DatasetProfiler profiler)
{
    public const string BlobFolder = "datasets/sha256";
    public const int MaxFiles = 100_000;
    private const int MaxVersionNumberAttempts = 20;

    private const string VersionColumns =
        "name AS Name, version AS Version, digest AS Digest, message AS Message, created_at AS CreatedAt, created_by AS CreatedBy, " +
        "file_count AS FileCount, size_bytes AS SizeBytes, row_count AS RowCount";

    public static string BlobPath(string sha256) => ContentAddressing.PathFor(ValidateSha256(sha256), BlobFolder);

    /// <summary>
    /// The digest of a manifest: SHA-256 over one line <c>&lt;sha256&gt; &lt;size&gt; &lt;path&gt;\n</c> per file in
    /// ordinal path order, so it depends on the bytes and the names, never on the order files were listed in.
    /// </summary>
    public static string Digest(IEnumerable<DatasetFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var text = new StringBuilder();
        foreach (var file in files.OrderBy(file => file.Path, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"{file.Sha256} {file.Size} {file.Path}\n");
        }

        return ContentAddressing.Sha256Hex(Encoding.UTF8.GetBytes(text.ToString()));
    }

    public Task<bool> HasBlobAsync(string sha256, CancellationToken cancellationToken = default) =>
        artifacts.ExistsAsync(BlobPath(sha256), cancellationToken);

    /// <summary>Stores uploaded file content that claims to hash to <paramref name="sha256"/>; refuses it when it does not.</summary>
    public async Task<ArtifactEntry> PutBlobAsync(string sha256, Stream content, CancellationToken cancellationToken = default)
    {
        BlobPath(sha256);
        var stored = await artifacts.PutContentAddressedAsync(content, BlobFolder, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(stored.Sha256, sha256, StringComparison.Ordinal))
        {
            // What arrived is stored under its own hash (harmless, content-addressed); the claimed address stays empty.
            throw TrackingException.Invalid($"The uploaded content hashes to {stored.Sha256}, not {sha256}: it changed on the way or was read from the wrong file; upload it again.");
        }

        return stored;
    }

    public async Task<Stream> OpenBlobAsync(string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            return await artifacts.OpenReadAsync(BlobPath(sha256), cancellationToken).ConfigureAwait(false);
        }
        catch (ArtifactNotFoundException)
        {
            throw TrackingException.NotFound($"No dataset file with SHA-256 {sha256} is stored.");
        }
    }

    /// <summary>
    /// A stored file as a local file for DuckDB: a local store's own file (read it, never change it), or a copy written to
    /// <paramref name="copyPath"/>, which the caller deletes when done.
    /// </summary>
    public Task<string> LocalFileAsync(DatasetFile file, string copyPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        return artifacts.LocalFileAsync(BlobPath(file.Sha256), copyPath, cancellationToken);
    }

    /// <summary>
    /// Makes a version of <paramref name="name"/> (created on first use) from files already uploaded with
    /// <see cref="PutBlobAsync"/>, profiling the tabular ones. Identical files give back the existing version.
    /// </summary>
    public async Task<DatasetAddResult> AddVersionAsync(string name, IReadOnlyList<DatasetFile> files, string? message = null, string? createdBy = null, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(files);
        TrackingValidation.Length("Message", 5000, message);
        var manifest = ValidateManifest(files);
        var digest = Digest(manifest);
        if (await FindByDigestAsync(name, digest, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return new DatasetAddResult(existing, Created: false);
        }

        await CheckBlobsAsync(manifest, cancellationToken).ConfigureAwait(false);
        var tables = new List<TableProfile>();
        foreach (var file in manifest.Where(file => DatasetProfiler.FormatOf(file.Path) is not null))
        {
            tables.Add(await ProfileAsync(file, cancellationToken).ConfigureAwait(false));
        }

        var profile = new DatasetProfile(tables);
        long? rowCount = tables.Count == 0 ? null : tables.Sum(table => table.Rows);
        var manifestJson = JsonSerializer.Serialize(manifest, DatasetJsonContext.Default.ListDatasetFile);
        var profileJson = JsonSerializer.Serialize(profile, DatasetJsonContext.Default.DatasetProfile);

        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO versioned_datasets (name, created_at, updated_at) VALUES (@name, @now, @now) ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at",
                new { name, now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            var version = 1 + await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COALESCE(MAX(version), 0) FROM dataset_versions WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO dataset_versions (name, version, digest, message, created_at, created_by, file_count, size_bytes, row_count, manifest, profile) " +
                    "VALUES (@name, @version, @digest, @message, @now, @createdBy, @fileCount, @sizeBytes, @rowCount, @manifestJson, @profileJson)",
                    new { name, version, digest, message, now, createdBy, fileCount = (long)manifest.Count, sizeBytes = manifest.Sum(file => file.Size), rowCount, manifestJson, profileJson },
                    transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception) && attempt < MaxVersionNumberAttempts)
            {
                // Another writer took this number, or added the same files a moment ago.
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                if (await FindByDigestAsync(name, digest, cancellationToken).ConfigureAwait(false) is { } concurrent)
                {
                    return new DatasetAddResult(concurrent, Created: false);
                }

                continue;
            }

            return new DatasetAddResult(new DatasetVersion(name, version, digest, message, now, createdBy, manifest.Count, manifest.Sum(file => file.Size), rowCount, manifest, profile), Created: true);
        }
    }

    /// <summary>A version with its manifest and profile; <c>name</c> alone or <c>name@latest</c> is the newest.</summary>
    public async Task<DatasetVersion> GetVersionAsync(DatasetReference reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = $"SELECT {VersionColumns}, manifest AS Manifest, profile AS Profile FROM dataset_versions WHERE name = @Name " +
                  (reference.Version is null ? "ORDER BY version DESC LIMIT 1" : "AND version = @Version");
        var row = await connection.QuerySingleOrDefaultAsync<VersionRow>(new CommandDefinition(sql, reference, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is null)
        {
            var known = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM versioned_datasets WHERE name = @Name", reference, cancellationToken: cancellationToken)).ConfigureAwait(false);
            throw TrackingException.NotFound(known == 0
                ? $"Dataset '{reference.Name}' does not exist; `ballast data list` shows the datasets there are."
                : $"Dataset '{reference.Name}' has no version {reference.Version}; `ballast data show {reference.Name}` lists its versions.");
        }

        return row.ToVersion(withContent: true);
    }

    /// <summary>Every dataset with its newest version number, by name.</summary>
    public async Task<IReadOnlyList<DatasetSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<SummaryRow>(new CommandDefinition(
            "SELECT d.name AS Name, MAX(v.version) AS LatestVersion, COUNT(v.version) AS VersionCount, d.created_at AS CreatedAt, d.updated_at AS UpdatedAt " +
            "FROM versioned_datasets d JOIN dataset_versions v ON v.name = d.name GROUP BY d.name, d.created_at, d.updated_at ORDER BY d.name",
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new DatasetSummary(row.Name, row.LatestVersion, row.VersionCount, row.CreatedAt, row.UpdatedAt)).ToList();
    }

    /// <summary>The versions of one dataset, newest first, without their manifests and profiles.</summary>
    public async Task<IReadOnlyList<DatasetVersion>> ListVersionsAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<VersionRow>(new CommandDefinition(
            $"SELECT {VersionColumns} FROM dataset_versions WHERE name = @name ORDER BY version DESC", new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        if (rows.Count == 0)
        {
            throw TrackingException.NotFound($"Dataset '{name}' does not exist; `ballast data list` shows the datasets there are.");
        }

        return rows.Select(row => row.ToVersion(withContent: false)).ToList();
    }

    /// <summary>
    /// The version of <paramref name="name"/> whose digest is or starts with <paramref name="digest"/> (MLflow clients
    /// log dataset digests of up to 36 characters), or null. Shorter prefixes than 8 characters match nothing.
    /// </summary>
    public async Task<DatasetVersion?> FindByDigestAsync(string name, string digest, CancellationToken cancellationToken = default)
    {
        if (digest.Length < 8 || digest.Length > 64 || !digest.All(char.IsAsciiHexDigitLower))
        {
            return null;
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QueryFirstOrDefaultAsync<VersionRow>(new CommandDefinition(
            $"SELECT {VersionColumns}, manifest AS Manifest, profile AS Profile FROM dataset_versions WHERE name = @name AND " +
            (digest.Length == 64 ? "digest = @digest" : "digest LIKE @pattern") + " ORDER BY version LIMIT 1",
            new { name, digest, pattern = digest + "%" }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToVersion(withContent: true);
    }

    private static List<DatasetFile> ValidateManifest(IReadOnlyList<DatasetFile> files)
    {
        if (files.Count == 0)
        {
            throw TrackingException.Invalid("A dataset version needs at least one file.");
        }

        if (files.Count > MaxFiles)
        {
            throw TrackingException.Invalid($"A dataset version holds at most {MaxFiles} files, not {files.Count}; pack small files into an archive or a Parquet file.");
        }

        var manifest = new List<DatasetFile>(files.Count);
        var paths = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            // A JSON body may leave the (non-nullable) path out or give it as null.
            if (string.IsNullOrEmpty(file.Path))
            {
                throw TrackingException.Invalid($"files[{i}] has no 'path': give each file's path within the version, its size and its sha256.");
            }

            string path;
            try
            {
                path = ArtifactPath.Validate(file.Path);
            }
            catch (InvalidArtifactPathException exception)
            {
                throw TrackingException.Invalid($"File path '{file.Path}': {exception.Message}");
            }

            if (!paths.Add(path))
            {
                throw TrackingException.Invalid($"File path '{path}' appears twice in the manifest.");
            }

            if (file.Size < 0)
            {
                throw TrackingException.Invalid($"File '{path}' has a negative size ({file.Size}).");
            }

            manifest.Add(new DatasetFile(path, file.Size, ValidateSha256(file.Sha256, path)));
        }

        manifest.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return manifest;
    }

    /// <summary>Every file must have been uploaded, with the size the manifest claims.</summary>
    private async Task CheckBlobsAsync(List<DatasetFile> manifest, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        foreach (var group in manifest.GroupBy(file => file.Sha256[..2], StringComparer.Ordinal))
        {
            var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
            await foreach (var entry in artifacts.ListAsync(BlobFolder + "/" + group.Key, recursive: false, cancellationToken).ConfigureAwait(false))
            {
                sizes[entry.Path] = entry.Size ?? -1;
            }

            foreach (var file in group)
            {
                if (!sizes.TryGetValue(BlobPath(file.Sha256), out var size))
                {
                    missing.Add($"'{file.Path}' ({file.Sha256})");
                }
                else if (size != file.Size)
                {
                    throw TrackingException.Invalid($"File '{file.Path}' is {file.Size} bytes in the manifest but the stored content with SHA-256 {file.Sha256} is {size} bytes.");
                }
            }
        }

        if (missing.Count > 0)
        {
            throw TrackingException.Invalid(
                $"{missing.Count} file(s) of the manifest have not been uploaded: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}. " +
                "PUT each to /api/v1/datasets/blobs/{sha256} first (`ballast data add` does).");
        }
    }

    /// <summary>Profiles one stored file: in place for a local store, from a temporary copy for S3.</summary>
    private async Task<TableProfile> ProfileAsync(DatasetFile file, CancellationToken cancellationToken)
    {
        if (artifacts is FileArtifactStore local)
        {
            return profiler.Profile(local.LocalPath(BlobPath(file.Sha256)), file.Path, cancellationToken);
        }

        var copy = Path.Combine(Path.GetTempPath(), "ballast-dataset-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var source = await artifacts.OpenReadAsync(BlobPath(file.Sha256), cancellationToken).ConfigureAwait(false))
            await using (var target = new FileStream(copy, FileMode.CreateNew, FileAccess.Write, FileShare.None, ContentAddressing.CopyBufferSize, FileOptions.Asynchronous))
            {
                await source.CopyToAsync(target, ContentAddressing.CopyBufferSize, cancellationToken).ConfigureAwait(false);
            }

            return profiler.Profile(copy, file.Path, cancellationToken);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static void ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name) || !NamePattern().IsMatch(name))
        {
            throw TrackingException.Invalid(
                $"Invalid dataset name '{name}': use 1 to 256 letters, digits, '.', '_' or '-', starting with a letter or digit (no '@' or '/').");
        }
    }

    private static string ValidateSha256(string? sha256, string? path = null)
    {
        if (sha256 is null || sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower))
        {
            throw TrackingException.Invalid($"{(path is null ? "" : $"File '{path}': ")}'{sha256}' is not a SHA-256 in 64 lowercase hex digits.");
        }

        return sha256;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")]
    private static partial Regex NamePattern();

    private sealed class SummaryRow
    {
        public string Name { get; set; } = "";

        public long LatestVersion { get; set; }

        public long VersionCount { get; set; }

        public long CreatedAt { get; set; }

        public long UpdatedAt { get; set; }
    }

    private sealed class VersionRow
    {
        public string Name { get; set; } = "";

        public long Version { get; set; }

        public string Digest { get; set; } = "";

        public string? Message { get; set; }

        public long CreatedAt { get; set; }

        public string? CreatedBy { get; set; }

        public long FileCount { get; set; }

        public long SizeBytes { get; set; }

        public long? RowCount { get; set; }

        public string? Manifest { get; set; }

        public string? Profile { get; set; }

        public DatasetVersion ToVersion(bool withContent) => new(
            Name, Version, Digest, Message, CreatedAt, CreatedBy, FileCount, SizeBytes, RowCount,
            withContent && Manifest is not null ? JsonSerializer.Deserialize(Manifest, DatasetJsonContext.Default.ListDatasetFile) : null,
            withContent && Profile is not null ? JsonSerializer.Deserialize(Profile, DatasetJsonContext.Default.DatasetProfile) : null);
    }
}
