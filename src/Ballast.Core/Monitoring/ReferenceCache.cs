using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ballast.Datasets;
using Ballast.Storage;

namespace Ballast.Monitoring;

/// <summary>
/// A server's local cache of monitor references (<c>&lt;data-dir&gt;/cache/references</c>): dataset files by their
/// SHA-256, and a dataset reference's outputs as scored by a model version for CBPE. Both are immutable for their key,
/// so a cached file stays valid until it is evicted. A file is written under a temporary name in the same folder and
/// renamed into place (the last rename wins; every writer wrote the same bytes); a dataset file's SHA-256 is checked
/// while it is copied, and again on use unless the file has the size and last-write time it had when this process
/// last verified it (so a copy changed in place, even to the same size, is detected at its next use; a file another
/// process sharing the folder used since is hashed again). The files' total size is kept within <see cref="MaxBytes"/> by removing the least recently used first (each
/// use sets a file's last-write time from the clock); a file in use by a window is never removed, and a file larger than
/// the bound is not cached. In one process, concurrent requests for the same file share one download.
/// <para>
/// Processes sharing the folder see each other's use through advisory file locks: a <see cref="Lease"/> holds its file
/// open with a shared lock (as does a read of a scores file), and a file is removed, or replaced, only by a process that
/// took its exclusive lock, so a file another process is reading is skipped (the next least recently used goes instead).
/// On Unix .NET's <see cref="FileStream"/> takes these locks itself: <c>flock(LOCK_SH | LOCK_NB)</c> for any
/// <see cref="FileShare"/> but <see cref="FileShare.None"/>, <c>flock(LOCK_EX | LOCK_NB)</c> for that, throwing an
/// <see cref="IOException"/> on <c>EWOULDBLOCK</c> and ignoring a file system that cannot lock (dotnet/runtime,
/// src/libraries/System.Private.CoreLib/src/Microsoft/Win32/SafeHandles/SafeFileHandle.Unix.cs, <c>Init</c>; the
/// switch <c>System.IO.DisableFileLocking</c> turns them off, and with them this protection). Each FileStream is its
/// own <c>open</c>, so its own open file description, and flock locks belong to the description (flock(2)): two caches
/// in one process exclude each other as two processes do.
/// </para>
/// <para>
/// The lock is taken after the file is opened, not with it (the source says so), so a process may open a file just
/// before another removes it and lock it just after. A process that removes or replaces a file therefore empties it
/// first, under its exclusive lock: a locked file that is not empty is the one its name gives (an empty cached file
/// costs no room and is never removed to make some). A file is only put in place under a name that is free
/// (<see cref="File.Move(string, string, bool)"/> without overwriting); an existing copy is removed first, as above.
/// </para>
/// </summary>
public sealed class ReferenceCache
{
    public const string Blob = "blob";
    public const string Scores = "scores";

    private const string TempPrefix = "tmp-";

    /// <summary>A temporary file not written for this long was left by a crash; younger ones may be another process's download in progress.</summary>
    private static readonly TimeSpan StaleTemp = TimeSpan.FromHours(1);
    private const int BufferSize = 81_920;

    /// <summary>
    /// Downloads of one file a request makes at most when other processes sharing the folder remove or replace each copy
    /// before this one locks it (a race of milliseconds each time, so more than one is already rare).
    /// </summary>
    private const int Attempts = 3;

    private readonly TimeProvider _time;
    private readonly IReferenceCacheObserver? _observer;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _pins = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Lazy<Task>> _downloads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (long Length, DateTime Written)> _verified = new(StringComparer.Ordinal);

    /// <param name="folder">The cache's own folder; temporary files a crash left in it (not written for an hour) are removed.</param>
    /// <param name="maxBytes">The bound on the files' total size; 0 turns the cache off.</param>
    public ReferenceCache(string folder, long maxBytes, TimeProvider? time = null, IReferenceCacheObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        Folder = Path.GetFullPath(folder);
        MaxBytes = maxBytes;
        _time = time ?? TimeProvider.System;
        _observer = observer;
        if (maxBytes > 0)
        {
            Directory.CreateDirectory(Folder);
            var before = _time.GetUtcNow().UtcDateTime - StaleTemp;
            foreach (var temp in new DirectoryInfo(Folder).EnumerateFiles(TempPrefix + "*"))
            {
                if (temp.LastWriteTimeUtc < before)
                {
                    TryDelete(temp.FullName);
                }
            }
        }
    }

    public string Folder { get; }

    public long MaxBytes { get; }

    /// <summary>A file the cache keeps while a window reads it: not evicted until disposed.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly ReferenceCache _cache;
        private readonly string _name;
        private FileStream? _held;
        private int _disposed;

        internal Lease(ReferenceCache cache, string name, string path)
        {
            _cache = cache;
            _name = name;
            Path = path;
        }

        /// <summary>The cached file, to read in place and never change.</summary>
        public string Path { get; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                // Closing the file releases its shared lock: other processes may remove it from now on.
                _held?.Dispose();
                _cache.Unpin(_name);
            }
        }

        /// <summary>Keeps <paramref name="held"/> (the file, open with its shared lock) until the lease is disposed.</summary>
        internal void Hold(FileStream held) => _held = held;
    }

    /// <summary>
    /// The dataset file as a verified local file, kept until the lease is disposed: the cached copy, or one copied from
    /// <paramref name="open"/> now (a damaged cached copy is replaced). Null when the cache is off or the file is larger
    /// than its bound, or when other processes sharing the folder removed or replaced each copy before it could be
    /// locked (<see cref="Attempts"/> downloads): the caller copies it as before. A copy whose SHA-256 is not the file's
    /// is a <see cref="DriftInputException"/>.
    /// </summary>
    public async Task<Lease?> BlobAsync(DatasetFile file, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(open);
        if (MaxBytes == 0)
        {
            return null;
        }

        var name = $"{Blob}-{file.Sha256}{Extension(file.Path)}";
        if (file.Size > MaxBytes)
        {
            _observer?.TooLarge(Blob, name, file.Size);
            return null;
        }

        var path = Path.Combine(Folder, name);
        var lease = Pin(name, path);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                if (Hold(path) is { } held)
                {
                    try
                    {
                        if (await IsValidAsync(name, held, file, cancellationToken).ConfigureAwait(false))
                        {
                            lease.Hold(held);
                            held = null;
                            Touch(path, name);
                            if (attempt == 0)
                            {
                                _observer?.Hit(Blob, name);
                            }

                            return lease;
                        }
                    }
                    finally
                    {
                        if (held is not null)
                        {
                            await held.DisposeAsync().ConfigureAwait(false);
                        }
                    }
                }

                if (attempt == Attempts)
                {
                    lease.Dispose();
                    return null;
                }

                if (attempt == 0)
                {
                    _observer?.Miss(Blob, name);
                }

                await DownloadOnceAsync(name, path, file, open, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>Downloads the file into place, or waits for the download of it this process has under way.</summary>
    private async Task DownloadOnceAsync(string name, string path, DatasetFile file, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken)
    {
        var mine = new Lazy<Task>(() => DownloadAsync(name, path, file, open, cancellationToken));
        Lazy<Task> shared;
        lock (_lock)
        {
            shared = _downloads.TryGetValue(name, out var running) ? running : _downloads[name] = mine;
        }

        try
        {
            // A second window waits for the first's download (with the first's cancellation) instead of starting its own.
            await shared.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (shared == mine)
            {
                lock (_lock)
                {
                    _downloads.Remove(name);
                }
            }
        }
    }

    /// <summary>The outputs cached under <paramref name="key"/> for a reference of <paramref name="rows"/> rows, or null (a miss; an unreadable file is one).</summary>
    public async Task<IReadOnlyDictionary<string, List<object?>>?> ScoresAsync(string key, long rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (MaxBytes == 0)
        {
            return null;
        }

        var name = ScoresName(key);
        var path = Path.Combine(Folder, name);
        try
        {
            // Read under a shared lock (any FileShare but None), so no process removes it meanwhile; one emptied by a
            // process removing it between this open and the lock does not parse, and is a miss.
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (ReadScores(document.RootElement, key, rows) is { } outputs)
            {
                Touch(path);
                _observer?.Hit(Scores, name);
                return outputs;
            }
        }
        catch (Exception exception) when (exception is IOException or JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            // Not there, or not a whole scores file: scored again and written over.
        }

        _observer?.Miss(Scores, name);
        return null;
    }

    /// <summary>Caches <paramref name="outputs"/> (columns of one value per row: text, numbers or missing) under <paramref name="key"/>.</summary>
    public async Task PutScoresAsync(string key, IReadOnlyDictionary<string, List<object?>> outputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(outputs);
        if (MaxBytes == 0)
        {
            return;
        }

        var name = ScoresName(key);
        var temp = Path.Combine(Folder, $"{TempPrefix}{Guid.NewGuid():N}-{name}");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                await WriteScoresAsync(stream, key, outputs, cancellationToken).ConfigureAwait(false);
            }

            var size = new FileInfo(temp).Length;
            if (size > MaxBytes)
            {
                _observer?.TooLarge(Scores, name, size);
                return;
            }

            Evict(size);
            var path = Path.Combine(Folder, name);
            if (Place(temp, path))
            {
                Touch(path);
            }
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>A table's extension as its format is read from it (<c>.csv</c>, <c>.csv.gz</c>, <c>.parquet</c>…).</summary>
    internal static string Extension(string path)
    {
        var gz = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        var name = gz ? path[..^3] : path;
        return Path.GetExtension(name) + (gz ? ".gz" : "");
    }

    private static string ScoresName(string key) => $"{Scores}-{ContentAddressing.Sha256Hex(Encoding.UTF8.GetBytes(key))}.json";

    private async Task DownloadAsync(string name, string path, DatasetFile file, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken)
    {
        Evict(file.Size);
        var temp = Path.Combine(Folder, $"{TempPrefix}{Guid.NewGuid():N}-{name}");
        try
        {
            long size;
            string sha256;
            await using (var source = await open(cancellationToken).ConfigureAwait(false))
            await using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                (size, sha256) = await ContentAddressing.CopyAndHashAsync(source, target, cancellationToken).ConfigureAwait(false);
            }

            if (sha256 != file.Sha256 || size != file.Size)
            {
                throw new DriftInputException($"the dataset file '{file.Path}' read from the store is {size} bytes with SHA-256 {sha256}, not the {file.Size} bytes " +
                    $"of its content address {file.Sha256}: the stored copy is damaged");
            }

            if (Place(temp, path))
            {
                _verified[name] = default;
                Touch(path, name);
            }
        }
        finally
        {
            TryDelete(temp);
        }

        Evict(0);
    }

    /// <summary>
    /// Whether the held copy is whole: its size always (one another process emptied while removing it, after this
    /// process opened it and before it locked it, is 0 bytes), its SHA-256 unless it has the size and last-write time it
    /// had when this process last verified (or wrote) it.
    /// </summary>
    private async Task<bool> IsValidAsync(string name, FileStream held, DatasetFile file, CancellationToken cancellationToken)
    {
        var length = held.Length;
        if (length != file.Size)
        {
            _verified.TryRemove(name, out _);
            return false;
        }

        var stamp = (length, File.GetLastWriteTimeUtc(held.SafeFileHandle));
        if (_verified.TryGetValue(name, out var verified) && verified == stamp)
        {
            return true;
        }

        _verified.TryRemove(name, out _);
        held.Position = 0;
        if (await ContentAddressing.Sha256HexAsync(held, cancellationToken).ConfigureAwait(false) != file.Sha256)
        {
            return false;
        }

        _verified[name] = stamp;
        return true;
    }

    /// <summary>
    /// The cached file open for reading with its shared lock, so no process removes it while it is held; null when it
    /// is not there, or another process holds its exclusive lock (it is being removed or replaced).
    /// </summary>
    private static FileStream? Hold(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (IOException)
        {
            // FileNotFoundException, or EWOULDBLOCK from the lock.
            return null;
        }
    }

    /// <summary>
    /// Renames <paramref name="temp"/> to <paramref name="path"/> if the name is free or its copy can be removed; false
    /// when another process holds the copy there (it verified that copy: it is used instead, and checked as any other).
    /// </summary>
    /// <remarks>
    /// On Unix <see cref="File.Move(string, string, bool)"/> without overwriting renames when the name is free, checked
    /// just before (link and unlink otherwise; dotnet/runtime, src/libraries/System.Private.CoreLib/src/System/IO/FileSystem.Unix.cs,
    /// <c>MoveFile</c>): two processes placing the same file within those microseconds may still replace one copy by the
    /// other, the same bytes.
    /// </remarks>
    private bool Place(string temp, string path)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            try
            {
                File.Move(temp, path, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(path))
            {
                if (TryRemove(path) == Removal.Held)
                {
                    return false;
                }

                _verified.TryRemove(Path.GetFileName(path), out _);
            }
        }

        return false;
    }

    /// <summary>Removes the least recently used files not in use until the total plus <paramref name="reserve"/> bytes fits the bound.</summary>
    private void Evict(long reserve)
    {
        lock (_lock)
        {
            var files = new DirectoryInfo(Folder).EnumerateFiles().Where(info => !info.Name.StartsWith(TempPrefix, StringComparison.Ordinal))
                .OrderBy(info => info.LastWriteTimeUtc).ThenBy(info => info.Name, StringComparer.Ordinal).ToList();
            var total = files.Sum(info => info.Length) + reserve;
            foreach (var info in files)
            {
                if (total <= MaxBytes)
                {
                    break;
                }

                // A file a window of this process reads (or is about to) is pinned; one another process reads is locked;
                // an empty one frees no room.
                var removal = _pins.ContainsKey(info.Name) || info.Length == 0 ? Removal.Held : TryRemove(info.FullName);
                if (removal == Removal.Held)
                {
                    continue;
                }

                total -= info.Length;
                _verified.TryRemove(info.Name, out _);
                if (removal == Removal.Removed)
                {
                    _observer?.Evicted(info.Name, info.Length);
                }
            }
        }
    }

    private Lease Pin(string name, string path)
    {
        lock (_lock)
        {
            _pins[name] = _pins.GetValueOrDefault(name) + 1;
        }

        return new Lease(this, name, path);
    }

    private void Unpin(string name)
    {
        lock (_lock)
        {
            if (--_pins[name] == 0)
            {
                _pins.Remove(name);
            }
        }
    }

    /// <summary>
    /// Marks a file used now (its last-write time, which eviction orders by: access times are often not kept); a
    /// verified blob's <paramref name="name"/> is remembered with its new size and last-write time.
    /// </summary>
    private void Touch(string path, string? name = null)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, _time.GetUtcNow().UtcDateTime);
            if (name is not null && _verified.ContainsKey(name))
            {
                var info = new FileInfo(path);
                _verified[name] = (info.Length, info.LastWriteTimeUtc);
            }
        }
        catch (IOException)
        {
            // Evicted by another process sharing the folder: the next use fetches it again.
        }
    }

    private enum Removal
    {
        /// <summary>This process removed it.</summary>
        Removed,

        /// <summary>It was not there, or no longer the name's (another process removed or replaced it).</summary>
        Gone,

        /// <summary>A process holds it: its exclusive lock could not be taken.</summary>
        Held,
    }

    /// <summary>
    /// Removes a cached file under its exclusive lock, emptied first (see the class's remarks), unless a process holds
    /// it. A file found empty once locked was emptied by another process removing it, unless the name's file is empty
    /// too (a damaged copy, or one a process stopped while removing it): that one is removed, the other left alone,
    /// since the name may already be a new copy's.
    /// </summary>
    private static Removal TryRemove(string path)
    {
        try
        {
            using var locked = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            if (locked.Length == 0 && new FileInfo(path) is not { Exists: true, Length: 0 })
            {
                return Removal.Gone;
            }

            locked.SetLength(0);

            // Removed before the lock is released (closing the stream), so a process that locks it next finds it empty.
            File.Delete(path);
            return Removal.Removed;
        }
        catch (FileNotFoundException)
        {
            return Removal.Gone;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return Removal.Held;
        }
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static async Task WriteScoresAsync(Stream stream, string key, IReadOnlyDictionary<string, List<object?>> outputs, CancellationToken cancellationToken)
    {
        await using var writer = new Utf8JsonWriter(stream);
        writer.WriteStartObject();
        writer.WriteString("key", key);
        writer.WriteNumber("rows", outputs.Count == 0 ? 0 : outputs.Values.First().Count);
        writer.WriteStartArray("columns");
        foreach (var (name, values) in outputs)
        {
            // A column is text or numbers (one tensor's values); numbers that JSON cannot hold (NaN, ±∞) are written as text.
            var text = values.Any(value => value is string);
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteBoolean("text", text);
            writer.WriteStartArray("values");
            foreach (var value in values)
            {
                switch (value)
                {
                    case null:
                        writer.WriteNullValue();
                        break;
                    case double number when !text && double.IsFinite(number):
                        writer.WriteNumberValue(number);
                        break;
                    default:
                        writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                        break;
                }

                if (writer.BytesPending > BufferSize)
                {
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The columns of a scores file, or null when it is another key's or not of <paramref name="rows"/> rows.</summary>
    private static Dictionary<string, List<object?>>? ReadScores(JsonElement root, string key, long rows)
    {
        if (root.GetProperty("key").GetString() != key || root.GetProperty("rows").GetInt64() != rows)
        {
            return null;
        }

        var outputs = new Dictionary<string, List<object?>>(StringComparer.Ordinal);
        foreach (var column in root.GetProperty("columns").EnumerateArray())
        {
            var text = column.GetProperty("text").GetBoolean();
            var values = new List<object?>();
            foreach (var value in column.GetProperty("values").EnumerateArray())
            {
                values.Add(value.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.Number => value.GetDouble(),
                    _ when text => value.GetString(),
                    _ => double.Parse(value.GetString()!, CultureInfo.InvariantCulture),
                });
            }

            if (values.Count != rows)
            {
                return null;
            }

            outputs[column.GetProperty("name").GetString()!] = values;
        }

        return outputs;
    }
}
