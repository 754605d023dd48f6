namespace Ballast.Storage;

/// <summary>
/// Artifacts in a local folder. A write goes to <c>&lt;root&gt;/.tmp/&lt;guid&gt;</c> (same file system, so the final
/// rename is atomic), is flushed to disk, then renamed over the target. The <c>.tmp</c> folder is reserved and never listed.
/// </summary>
internal sealed class FileArtifactStore : IArtifactStore
{
    internal const string TempFolderName = ".tmp";

    private readonly string _root;
    private readonly string _rootWithSeparator;
    private readonly string _tempFolder;

    public FileArtifactStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _rootWithSeparator = _root + Path.DirectorySeparatorChar;
        _tempFolder = Path.Combine(_root, TempFolderName);
    }

    public string Location => _root;

    public async Task<ArtifactEntry> PutAsync(string path, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var target = ResolveFile(path);
        Directory.CreateDirectory(_tempFolder);
        var temp = Path.Combine(_tempFolder, Guid.NewGuid().ToString("N"));
        try
        {
            long size;
            string sha256;
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, ContentAddressing.CopyBufferSize, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                (size, sha256) = await ContentAddressing.CopyAndHashAsync(content, file, cancellationToken).ConfigureAwait(false);
                // On disk before it becomes visible: a crash right after the rename must not leave a truncated artifact.
                file.Flush(flushToDisk: true);
            }

            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                MoveIntoPlace(temp, target);
            }
            catch (IOException) when (Directory.Exists(target) || ParentFile(target) is not null)
            {
                // A file where a folder is, or below a file: the caller's path, not a failure of the store.
                throw new InvalidArtifactPathException(path, Directory.Exists(target)
                    ? "it is a folder of artifacts, which a file cannot replace"
                    : $"'{Path.GetFileName(ParentFile(target))}' is a file, so nothing can be stored below it");
            }

            return new ArtifactEntry(path, IsDirectory: false, size, sha256, File.GetLastWriteTimeUtc(target));
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Where an artifact lives on this machine, so a local reader (DuckDB) can open it in place instead of a copy.</summary>
    internal string LocalPath(string path) => ResolveFile(path);

    public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = ResolveFile(path);
        try
        {
            // FileShare.Delete lets a writer rename a new version over this one while it is being read.
            Stream stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, ContentAddressing.CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult(stream);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException
                                          || (exception is UnauthorizedAccessException && Directory.Exists(full)))
        {
            throw new ArtifactNotFoundException(path);
        }
    }

    public IAsyncEnumerable<ArtifactEntry> ListAsync(string prefix, bool recursive = false, CancellationToken cancellationToken = default)
    {
        var folder = ArtifactPath.ValidatePrefix(prefix);
        return List(folder.Length == 0 ? _root : Resolve(folder), recursive, cancellationToken).ToAsyncEnumerable();
    }

    private IEnumerable<ArtifactEntry> List(string folder, bool recursive, CancellationToken cancellationToken)
    {
        var directory = new DirectoryInfo(folder);
        if (!directory.Exists)
        {
            yield break;
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = recursive,
            // The default skips hidden entries, which on Unix means every dot-file; artifacts may start with a dot.
            AttributesToSkip = 0,
            IgnoreInaccessible = true,
        };
        var entries = new List<ArtifactEntry>();
        var infos = recursive ? directory.EnumerateFiles("*", options) : directory.EnumerateFileSystemInfos("*", options);
        foreach (var info in infos)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(_root, info.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (IsReserved(relative))
            {
                continue;
            }

            entries.Add(info is FileInfo file
                ? new ArtifactEntry(relative, IsDirectory: false, file.Length, LastModified: file.LastWriteTimeUtc)
                : new ArtifactEntry(relative, IsDirectory: true, Size: null));
        }

        entries.Sort(static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        foreach (var entry in entries)
        {
            yield return entry;
        }
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(ResolveFile(path)));

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = ResolveFile(path);
        if (!File.Exists(full))
        {
            return Task.FromResult(false);
        }

        File.Delete(full);
        RemoveEmptyFolders(Path.GetDirectoryName(full)!);
        return Task.FromResult(true);
    }

    public Task CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            Directory.CreateDirectory(_tempFolder);
            var probe = Path.Combine(_tempFolder, "probe-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new ArtifactStoreUnavailableException($"Artifact folder '{_root}' is not writable: {exception.Message}", exception);
        }

        return Task.CompletedTask;
    }

    public override string ToString() => _root;

    private string ResolveFile(string path)
    {
        var valid = ArtifactPath.Validate(path);
        if (IsReserved(valid))
        {
            throw new InvalidArtifactPathException(path, $"'{TempFolderName}' is reserved for writes in progress");
        }

        return Resolve(valid);
    }

    private static bool IsReserved(string relativePath) =>
        relativePath == TempFolderName || relativePath.StartsWith(TempFolderName + "/", StringComparison.Ordinal);

    /// <summary>Maps a validated path under the root, and checks once more that the result really is below it.</summary>
    private string Resolve(string validPath)
    {
        var full = Path.GetFullPath(Path.Combine(_root, validPath.Replace('/', Path.DirectorySeparatorChar)));
        if (!full.StartsWith(_rootWithSeparator, StringComparison.Ordinal))
        {
            throw new InvalidArtifactPathException(validPath, "it resolves outside the artifact folder");
        }

        return full;
    }

    private static void MoveIntoPlace(string temp, string target)
    {
        // A concurrent delete may remove an emptied parent folder between creating it and the rename; create it again.
        for (var attempt = 1; ; attempt++)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            try
            {
                File.Move(temp, target, overwrite: true);
                return;
            }
            catch (DirectoryNotFoundException) when (attempt < 3)
            {
            }
        }
    }

    /// <summary>The nearest parent of <paramref name="target"/> inside the root that is a file, if any.</summary>
    private string? ParentFile(string target)
    {
        for (var parent = Path.GetDirectoryName(target); parent is not null && parent.StartsWith(_rootWithSeparator, StringComparison.Ordinal); parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent))
            {
                return parent;
            }
        }

        return null;
    }

    /// <summary>Folders exist only while they hold files, as in S3, so listings agree between stores.</summary>
    private void RemoveEmptyFolders(string folder)
    {
        while (folder.StartsWith(_rootWithSeparator, StringComparison.Ordinal))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    return;
                }

                Directory.Delete(folder);
            }
            catch (IOException)
            {
                // Not empty any more (a concurrent write) or already gone: either way there is nothing left to prune.
                return;
            }

            folder = Path.GetDirectoryName(folder)!;
        }
    }
}
