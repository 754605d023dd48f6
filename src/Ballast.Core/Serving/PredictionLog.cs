using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ballast.Runtime;
using Ballast.Storage;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Serving;

/// <summary>
/// One scored request as the prediction log keeps it; <see cref="Inputs"/> and <see cref="Outputs"/> are kept as V2 JSON
/// tensor lists. <see cref="Expectations"/> lists the data-quality expectations the request failed when its endpoint
/// flags rather than rejects them (<c>age.max,state.allowed</c>), null otherwise (and in segments written before it existed).
/// <see cref="Kind"/> is <c>primary</c> (the answer the caller got, its variant chosen by the policy or the route),
/// <c>forced</c> (the answer the caller got from a variant the <c>Ballast-Variant</c> header forced) or <c>shadow</c>.
/// </summary>
public sealed record PredictionRecord(
    string PredictionId,
    string Endpoint,
    string Variant,
    string Model,
    long Timestamp,
    double LatencyMs,
    string? RoutingKey,
    IReadOnlyList<Tensor> Inputs,
    IReadOnlyList<Tensor> Outputs,
    string Kind = PredictionRecord.Primary,
    string? Expectations = null)
{
    public const string Primary = "primary";
    public const string Shadow = "shadow";

    /// <summary>An answer of a variant forced by the <c>Ballast-Variant</c> header: served and monitored, but no unit of an experiment.</summary>
    public const string Forced = "forced";

    /// <summary>
    /// <see cref="Outputs"/> as <see cref="TensorJson.Encode"/> wrote them for the response, when the caller has them:
    /// the log writes these bytes rather than encoding the outputs a second time.
    /// </summary>
    public byte[]? EncodedOutputs { get; init; }
}

/// <summary>How the prediction log behaves: where its write-ahead files live and when they become Parquet segments.</summary>
public sealed record PredictionLogOptions(string Folder)
{
    /// <summary>Records waiting for the writer; beyond it, <see cref="AppendAsync"/> waits up to <see cref="MaxWait"/>, then sheds (counted).</summary>
    public int Capacity { get; init; } = 10_000;

    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A write-ahead file is rolled into Parquet segments at this age or size, and at shutdown.</summary>
    public TimeSpan RollInterval { get; init; } = TimeSpan.FromMinutes(1);

    public long RollBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// A background conversion that may wait runs under <c>SCHED_IDLE</c> (<see cref="BackgroundPriority"/>), unless this
    /// process used more than this share of its processors since the previous background roll: then at nice 10, since
    /// with no idle CPU it would starve.
    /// </summary>
    public double BusyShare { get; init; } = 0.8;

    /// <summary>Converts write-ahead files in a child process when set (the server's; the log disposes it); null converts in this process.</summary>
    public WalConverterProcess? Converter { get; init; }
}

/// <summary>What the log has done since start, for metrics.</summary>
public sealed record PredictionLogStats(long Written, long Dropped, long Segments, int Queued);

/// <summary>
/// The zero-loss prediction log. A request's record is appended to a local write-ahead file (JSON lines) with group
/// commit: the appender that finds no write in progress writes its line itself, on its own thread, together with
/// every line queued meanwhile (one write call); lines appended while a write is in progress wait for the next one,
/// which the same writer does. The request's <see cref="AppendAsync"/> completes only once its line is in the file,
/// so a record whose request got an answer survives a process crash. Write-ahead files are
/// rolled into Parquet segments in the artifact store, <c>predictions/&lt;endpoint&gt;/&lt;yyyy-MM-dd-HH&gt;/&lt;segment&gt;.parquet</c>,
/// on a timer, by size, on demand (<see cref="RollAsync"/>) and at shutdown; at start, files left by a crash are rolled
/// first. Segment names derive from the write-ahead file, so rolling the same file twice overwrites, never duplicates.
/// When the queue is full the request waits briefly, then its record is shed and counted: never silently.
/// Each record gets a write sequence as it is queued (<see cref="RecordSequenceBits"/>), strictly increasing in the order
/// of the lines and never reused; segments keep it and the log's <see cref="Instance"/> as the columns <c>sequence</c> and
/// <c>instance</c>, in write order, and readers order by <see cref="PredictionSegments.Order"/>.
/// </summary>
public sealed class PredictionLog : IAsyncDisposable
{
    public const string SegmentFolder = "predictions";

    private readonly PredictionLogOptions _options;
    private readonly IArtifactStore _artifacts;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _rolling = new(1, 1);
    // Compaction manifests read by SegmentsAsync, by path: each is written once and never changed.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CompactionManifest> _manifests = new(StringComparer.Ordinal);
    private readonly string _instance;
    // Guarded by _gate. The lines waiting for the next write (at most Capacity of them), and what completes when they
    // are in the file; one writer at a time (_writing) swaps them with the spare buffer and writes them outside the lock.
    private ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private ArrayBufferWriter<byte> _spare = new(64 * 1024);
    private int _pendingCount;
    // Guarded by _gate: the write sequence of the next queued record (see RecordSequenceBits).
    private long _nextRecord;
    private TaskCompletionSource? _pendingWritten;
    private List<TaskCompletionSource>? _rotations;
    private TaskCompletionSource? _room;
    private TaskCompletionSource? _idle;
    private bool _writing;
    private bool _closed;
    private readonly ITimer _timer;
    private FileStream _wal = null!;
    private long _walSequence;
    private readonly long _firstSequence;
    private long _walBytes;
    private long _walOpenedAt;
    private long _lastRotatedAt;
    private Task _closing = Task.CompletedTask;
    private long _rolledUntil;
    private long _written;
    private long _dropped;
    private long _segments;
    private int _disposed;

    private PredictionLog(PredictionLogOptions options, IArtifactStore artifacts, TimeProvider time)
    {
        // Absolute, so that the current file's name (FileStream.Name is absolute) compares equal to the folder listing.
        _options = options with { Folder = Path.GetFullPath(options.Folder) };
        options = _options;
        _artifacts = artifacts;
        _time = time;
        (_cpuSampledAt, _cpuSampled) = (time.GetTimestamp(), Environment.CpuUsage.TotalTime);
        Directory.CreateDirectory(options.Folder);
        var instanceFile = Path.Combine(options.Folder, "instance-id");
        if (!File.Exists(instanceFile))
        {
            File.WriteAllText(instanceFile, Guid.NewGuid().ToString("N")[..12]);
        }

        _instance = File.ReadAllText(instanceFile).Trim();
        // Sequences are never reused, even after a clean stop deleted every file: a segment's name derives from its
        // file's, and a reused one would overwrite the earlier segment of the same hour.
        var sequenceFile = Path.Combine(options.Folder, SequenceFileName);
        var lastUsed = File.Exists(sequenceFile) && long.TryParse(File.ReadAllText(sequenceFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var stored) ? stored : 0;
        _walSequence = Math.Max(lastUsed, Directory.EnumerateFiles(options.Folder, "wal-*.*").Select(SequenceOf).DefaultIfEmpty(0).Max());
        OpenNextWal();
        _firstSequence = _walSequence;
        _lastRotatedAt = _walOpenedAt;
        _timer = time.CreateTimer(_ => Nudge(), null, options.RollInterval / 4, options.RollInterval / 4);
    }

    /// <summary>Names this log's records in segment names and its watermark among replicas (kept in the folder across restarts).</summary>
    public string Instance => _instance;

    /// <summary>
    /// Every record stamped before this time (Unix ms) is in a segment: the last rotation whose files are all rolled,
    /// or now when nothing waits to be written or rolled. A record stamped just before it may still be on its way to
    /// the log (microseconds; at most <see cref="PredictionLogOptions.MaxWait"/> when the log is full), so readers
    /// on other replicas keep a few seconds' margin.
    /// </summary>
    public long Watermark =>
        Volatile.Read(ref _walBytes) == 0 && Volatile.Read(ref _pendingCount) == 0 && Volatile.Read(ref _rolledUntil) >= Volatile.Read(ref _lastRotatedAt)
            ? _time.GetUtcNow().ToUnixTimeMilliseconds()
            : Volatile.Read(ref _rolledUntil);

    public PredictionLogStats Stats => new(Interlocked.Read(ref _written), Interlocked.Read(ref _dropped), Interlocked.Read(ref _segments), Volatile.Read(ref _pendingCount));

    /// <summary>Opens the log; write-ahead files a crash left behind are rolled into segments before it takes records.</summary>
    public static async Task<PredictionLog> OpenAsync(PredictionLogOptions options, IArtifactStore artifacts, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = new PredictionLog(options, artifacts, time);
        await log.RollClosedAsync(background: false, cancellationToken).ConfigureAwait(false);
        return log;
    }

    /// <summary>
    /// Appends a record and returns once it is in the write-ahead file (true), or false when the queue stayed full
    /// for <see cref="PredictionLogOptions.MaxWait"/> and the record was shed (counted in <see cref="Stats"/>).
    /// </summary>
    public ValueTask<bool> AppendAsync(PredictionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var line = Serialize(record);
        return TryQueue(line.WrittenSpan, out var written, out var writes)
            ? Written(written, writes)
            : AppendWhenRoomAsync(line.WrittenSpan.ToArray(), cancellationToken);
    }

    /// <summary>Closes the current write-ahead file and turns every closed one into segments (export does this first, to see everything).</summary>
    public async Task RollAsync(CancellationToken cancellationToken = default)
    {
        var rotated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool writes;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            (_rotations ??= []).Add(rotated);
            writes = TakeWriterRole();
        }

        if (writes)
        {
            WriteQueued(int.MaxValue);
        }

        await rotated.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await RollClosedAsync(background: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The segments of <paramref name="endpoint"/> whose hour overlaps [from, to] (Unix ms; null for open ends), by path:
    /// in a compacted hour the merged file and what arrived after it, never a file it covers (<see cref="PredictionCompaction"/>).
    /// </summary>
    public async Task<IReadOnlyList<string>> SegmentsAsync(string endpoint, long? from = null, long? to = null, CancellationToken cancellationToken = default)
    {
        var folders = await PredictionCompaction.HourFoldersAsync(_artifacts, $"{SegmentFolder}/{endpoint}",
            hour => (to is null || hour.ToUnixTimeMilliseconds() <= to) && (from is null || hour.ToUnixTimeMilliseconds() + 3_600_000 > from), cancellationToken).ConfigureAwait(false);
        var segments = new List<string>();
        foreach (var (folder, files) in folders)
        {
            var (readable, _) = await PredictionCompaction.ResolveAsync(_artifacts, folder, files.Keys, _manifests, cancellationToken).ConfigureAwait(false);
            segments.AddRange(readable.Select(name => $"{folder}/{name}"));
        }

        return segments;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _timer.DisposeAsync().ConfigureAwait(false);
        // No append, roll or timer takes the writer role once closed: the lines queued before are written here.
        await TakeWriterRoleAsync(close: true).ConfigureAwait(false);

        WriteQueued(int.MaxValue, keepRole: true);
        Rotate(reopen: false);
        try
        {
            await RollClosedAsync(background: false, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            if (_options.Converter is { } converter)
            {
                await converter.DisposeAsync().ConfigureAwait(false);
            }

            _rolling.Dispose();
        }
    }

    /// <summary>
    /// For tests: takes the writer role (once nobody holds it) and keeps it until disposed, so appends queue and, past
    /// <see cref="PredictionLogOptions.Capacity"/>, wait and are shed as under a real overload; disposing writes them.
    /// </summary>
    internal async Task<IDisposable> HoldWriterAsync()
    {
        await TakeWriterRoleAsync(close: false).ConfigureAwait(false);
        return new WriterHold(this);
    }

    /// <summary>
    /// For tests: conversions at the idle priority wait for this task before they start, as one does that requests leave
    /// no CPU to; giving way (<see cref="DeferredFiles"/>, a waiting roll) interrupts the wait as it would the conversion.
    /// </summary>
    internal Task StarvedConversions { get; set; } = Task.CompletedTask;

    /// <summary>Waits until nobody holds the writer role and takes it; <paramref name="close"/> first stops every append, roll and nudge from taking it again.</summary>
    private async Task TakeWriterRoleAsync(bool close)
    {
        while (true)
        {
            TaskCompletionSource idle;
            lock (_gate)
            {
                _closed |= close;
                if (TakeWriterRole())
                {
                    return;
                }

                idle = _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            await idle.Task.ConfigureAwait(false);
        }
    }

    private sealed class WriterHold(PredictionLog log) : IDisposable
    {
        public void Dispose() => log.WriteQueued(int.MaxValue);
    }

    /// <summary>A writer that finds more lines queued after this many writes hands them to a pool thread, so that its own request is answered.</summary>
    private const int WritesBeforeHandOff = 4;

    /// <summary>Queues a line (copied); true when it is queued, with what completes once it is written and whether the caller is now the writer.</summary>
    private bool TryQueue(ReadOnlySpan<byte> line, out TaskCompletionSource written, out bool writes)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_pendingCount >= _options.Capacity)
            {
                written = null!;
                writes = false;
                return false;
            }

            WriteSequenced(_pending, _nextRecord++, line);
            _pendingCount++;
            written = _pendingWritten ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            writes = TakeWriterRole();
            return true;
        }
    }

    private static ReadOnlySpan<byte> SequenceProperty => "{\"sequence\":"u8;

    /// <summary>
    /// Copies a serialized record (<c>{"prediction_id":…}</c> and a newline) with its write sequence as the first
    /// property. Under the lock, so that sequences follow the order of the lines in the file.
    /// </summary>
    private static void WriteSequenced(ArrayBufferWriter<byte> lines, long sequence, ReadOnlySpan<byte> line)
    {
        var head = lines.GetSpan(SequenceProperty.Length + 21);
        SequenceProperty.CopyTo(head);
        Utf8Formatter.TryFormat(sequence, head[SequenceProperty.Length..], out var digits);
        head[SequenceProperty.Length + digits] = (byte)',';
        lines.Advance(SequenceProperty.Length + digits + 1);
        lines.Write(line[1..]);
    }

    /// <summary>Becomes the writer when nobody is (call under the lock).</summary>
    private bool TakeWriterRole()
    {
        if (_writing)
        {
            return false;
        }

        _writing = true;
        return true;
    }

    private ValueTask<bool> Written(TaskCompletionSource written, bool writes)
    {
        if (writes)
        {
            WriteQueued(WritesBeforeHandOff);
        }

        return written.Task.IsCompletedSuccessfully ? new ValueTask<bool>(true) : AwaitWrittenAsync(written.Task);

        static async ValueTask<bool> AwaitWrittenAsync(Task written)
        {
            await written.ConfigureAwait(false);
            return true;
        }
    }

    /// <summary>The queue is full: waits up to <see cref="PredictionLogOptions.MaxWait"/> for room, then sheds the record (counted).</summary>
    private async ValueTask<bool> AppendWhenRoomAsync(byte[] line, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            TaskCompletionSource? room = null;
            lock (_gate)
            {
                // The writer may have taken the queue since this append found it full.
                if (_pendingCount >= _options.Capacity)
                {
                    room = _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            if (room is not null)
            {
                var left = _options.MaxWait - Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    Interlocked.Increment(ref _dropped);
                    return false;
                }

                try
                {
                    await room.Task.WaitAsync(left, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    Interlocked.Increment(ref _dropped);
                    return false;
                }
            }

            if (TryQueue(line, out var written, out var writes))
            {
                return await Written(written, writes).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The timer's nudge: when nobody is writing, checks whether the current file is due to roll.</summary>
    private void Nudge()
    {
        lock (_gate)
        {
            if (_closed || !TakeWriterRole())
            {
                return;
            }
        }

        WriteQueued(int.MaxValue);
    }

    /// <summary>
    /// The writer's loop (only the holder of the writer role runs it): writes the queued lines in one call, completes
    /// their appends, rotates the file when asked or due, and again while lines keep arriving; then gives up the role.
    /// After <paramref name="writes"/> writes the rest goes to a pool thread. <paramref name="keepRole"/>: at close.
    /// </summary>
    private void WriteQueued(int writes, bool keepRole = false)
    {
        for (var round = 0; ; round++)
        {
            ArrayBufferWriter<byte> lines;
            TaskCompletionSource? written;
            List<TaskCompletionSource>? rotations;
            int count;
            lock (_gate)
            {
                // The first round always runs: a timer's nudge has nothing queued but checks the file's age.
                if (round > 0 && _pendingCount == 0 && _rotations is null)
                {
                    if (!keepRole)
                    {
                        _writing = false;
                        _idle?.TrySetResult();
                        _idle = null;
                    }

                    return;
                }

                if (round >= writes)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static log => log.WriteQueued(int.MaxValue), this, preferLocal: false);
                    return;
                }

                lines = _pending;
                _pending = _spare;
                _spare = lines;
                count = _pendingCount;
                _pendingCount = 0;
                written = _pendingWritten;
                _pendingWritten = null;
                rotations = _rotations;
                _rotations = null;
                _room?.TrySetResult();
                _room = null;
            }

            if (count > 0)
            {
                try
                {
                    // One write for the whole batch; the lines are in the OS when it returns (a killed process loses none).
                    // A synchronous write: an unbuffered write to the page cache takes microseconds, less than a thread hop.
                    _wal.Write(lines.WrittenSpan);
                    _walBytes += lines.WrittenCount;
                    Interlocked.Add(ref _written, count);
                    written!.TrySetResult();
                }
                catch (Exception exception)
                {
                    // Whatever the failure (a full disk, a closed file), these appends fail (their requests get a 500)
                    // rather than wait forever, and the writer goes on with the next lines.
                    written!.TrySetException(exception);
                }

                lines.ResetWrittenCount();
            }

            var due = _walBytes >= _options.RollBytes || (_walBytes > 0 && _time.GetUtcNow().ToUnixTimeMilliseconds() - _walOpenedAt >= _options.RollInterval.TotalMilliseconds);
            if (rotations is not null || due)
            {
                try
                {
                    // A roll someone waits for closes the file here; a rotation for size or age closes it on a thread
                    // of its own, so that appends never wait for the fsync of a full file.
                    Rotate(background: rotations is null);
                    rotations?.ForEach(rotation => rotation.TrySetResult());
                }
                catch (Exception exception)
                {
                    // The file stays current (or a new one is opened next time); the writer goes on taking records.
                    rotations?.ForEach(rotation => rotation.TrySetException(exception));
                    continue;
                }

                if (due && rotations is null)
                {
                    _ = Task.Run(RollInBackgroundAsync);
                }
            }
        }
    }

    /// <summary>The last error of a background roll (the artifact store unreachable, say); the files stay and are rolled next time.</summary>
    public string? LastRollError { get; private set; }

    private async Task RollInBackgroundAsync()
    {
        try
        {
            await RollClosedAsync(background: true, CancellationToken.None).ConfigureAwait(false);
            LastRollError = null;
        }
        catch (Exception exception) when (exception is IOException or DuckDBException or ArtifactStoreUnavailableException or Amazon.S3.AmazonS3Exception)
        {
            LastRollError = exception.Message;
        }
    }

    /// <summary>
    /// Opens the next write-ahead file and closes the current one (fsync, then "closed" name), here or, with
    /// <paramref name="background"/>, on a thread of its own; rolls wait for such a close (<see cref="_closing"/>).
    /// </summary>
    private void Rotate(bool reopen = true, bool background = false)
    {
        var old = _wal;
        var hadLines = _walBytes > 0;
        if (reopen)
        {
            // First, so that the writer always has a file: if opening fails, the current one simply stays current.
            OpenNextWal();
        }

        if (background)
        {
            var closing = Task.Factory.StartNew(() => CloseInBackground(old), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Volatile.Write(ref _closing, Task.WhenAll(_closing, closing));
        }
        else
        {
            Close(old);
        }

        if (hadLines)
        {
            // Every record of the old file was stamped before now. Written after the close (or after the close is in
            // _closing, which a roll awaits), so that a roll that sees this time also sees the file closed.
            Volatile.Write(ref _lastRotatedAt, _time.GetUtcNow().ToUnixTimeMilliseconds());
        }
    }

    private void CloseInBackground(FileStream file)
    {
        try
        {
            Close(file);
            // A conversion at the idle priority gets next to no CPU once requests keep the cores busy: when more files
            // wait than it may defer, it gives way, and the roll this rotation started converts the oldest at normal priority.
            if (Volatile.Read(ref _idleRoll) is { } starved && ClosedFiles() > DeferredFiles)
            {
                starved.Cancel();
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The file stays open-named; the next start rolls it as a crash would have left it.
            LastRollError = exception.Message;
        }
    }

    /// <summary>Flushes a write-ahead file to disk and names it closed (or deletes it when empty), so that a roll takes it.</summary>
    private static void Close(FileStream file)
    {
        var path = file.Name;
        try
        {
            file.Flush(flushToDisk: true);
        }
        finally
        {
            file.Dispose();
            if (new FileInfo(path).Length == 0)
            {
                File.Delete(path);
            }
            else
            {
                File.Move(path, Path.ChangeExtension(path, ".closed"));
            }
        }
    }

    private const string SequenceFileName = "last-sequence";

    /// <summary>
    /// A record's write sequence is the file sequence current when it was queued, shifted by this many bits, plus its
    /// rank among the records queued under that file sequence. File sequences are persisted and never reused, so
    /// neither are record sequences, and they strictly increase in the order the lines are in the files (records queued
    /// just before a rotation land in the next file, still below its own records). A file holds far fewer than 2^32
    /// records (64 MiB of lines of at least 100 bytes).
    /// </summary>
    public const int RecordSequenceBits = 32;

    private void OpenNextWal()
    {
        _walSequence++;
        // Recorded before the file exists, so that no start after a crash can hand out this sequence again.
        File.WriteAllText(Path.Combine(_options.Folder, SequenceFileName), _walSequence.ToString(CultureInfo.InvariantCulture));
        lock (_gate)
        {
            _nextRecord = _walSequence << RecordSequenceBits;
        }

        _wal = new FileStream(Path.Combine(_options.Folder, string.Create(CultureInfo.InvariantCulture, $"wal-{_walSequence:D10}.jsonl")),
            FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        _walBytes = 0;
        _walOpenedAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
    }

    /// <summary>
    /// Background rolls yield the CPU to requests (their conversions run at a low priority, <see cref="BackgroundPriority"/>)
    /// while at most this many write-ahead files wait; beyond, they convert at normal priority (a conversion at a low
    /// priority gives way to them), so that a sustained overload cannot pile up files on disk or delay segments without bound.
    /// </summary>
    public const int DeferredFiles = 2;

    // Rolls someone waits for (RollAsync, open, stop), and the cancellation of a background roll in progress, which
    // such a roll cancels: a conversion starved at a low priority on a busy machine must not hold readers up.
    private int _waitingRolls;
    private CancellationTokenSource? _backgroundRoll;
    // The background roll's source while it converts at the idle priority, which the close of a file cancels when more
    // than DeferredFiles files wait.
    private CancellationTokenSource? _idleRoll;
    // This process's CPU time and the time when a background roll last looked (KeptProcessorsBusy), first at the start.
    private TimeSpan _cpuSampled;
    private long _cpuSampledAt;

    /// <summary>
    /// Turns every closed write-ahead file, and any open one a crash left (not the current), into segments, then deletes
    /// it. A <paramref name="background"/> roll (for size or age) converts at a low priority while few files wait
    /// (<see cref="DeferredFiles"/>), and gives way to a roll someone waits for: it stops between files, or interrupts
    /// its conversion, and leaves the rest to that roll, which converts at normal priority.
    /// </summary>
    private async Task RollClosedAsync(bool background, CancellationToken cancellationToken)
    {
        if (!background)
        {
            Interlocked.Increment(ref _waitingRolls);
            Volatile.Read(ref _backgroundRoll)?.Cancel();
        }

        try
        {
            await _rolling.WaitAsync(cancellationToken).ConfigureAwait(false);
            // Never disposed: a waiting roll may cancel it at any time, and without a timer it holds nothing to release.
            var yielding = background ? new CancellationTokenSource() : null;
            try
            {
                // A full fence, so that a waiting roll either sees this source or is seen below before the next file.
                Interlocked.Exchange(ref _backgroundRoll, yielding);
                // Files closed by this time are listed below; once they are rolled, so is every record stamped before it.
                var rotatedAt = Volatile.Read(ref _lastRotatedAt);
                // A close on its own thread finishes first (a failed one leaves its file open; it is rolled at the next start).
                await Volatile.Read(ref _closing).ConfigureAwait(false);
                // Only the writer knows which file is current, and it may rotate while this runs: closed files are rolled, and
                // open ones only when older than the first this log opened (a crash left them; nobody writes to them).
                var idle = yielding is not null && !KeptProcessorsBusy();
                var files = Directory.EnumerateFiles(_options.Folder, "wal-*.*")
                    .Where(file => file.EndsWith(".closed", StringComparison.Ordinal) || (file.EndsWith(".jsonl", StringComparison.Ordinal) && SequenceOf(file) < _firstSequence))
                    .OrderBy(SequenceOf).ToList();
                for (var i = 0; i < files.Count; i++)
                {
                    if (yielding is not null && Volatile.Read(ref _waitingRolls) > 0)
                    {
                        return;
                    }

                    var priority = yielding is null || files.Count - i > DeferredFiles ? ConversionPriority.Normal
                        : idle ? ConversionPriority.Idle : ConversionPriority.Low;
                    if (priority == ConversionPriority.Idle)
                    {
                        // A full fence: a close either sees this source (and may cancel it) or closed its file before the count.
                        Interlocked.Exchange(ref _idleRoll, yielding);
                        if (ClosedFiles() > DeferredFiles)
                        {
                            priority = ConversionPriority.Normal;
                            Volatile.Write(ref _idleRoll, null);
                        }
                    }

                    try
                    {
                        await RollFileAsync(files[i], priority, yielding?.Token ?? default, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (yielding?.IsCancellationRequested == true)
                    {
                        return;
                    }
                    finally
                    {
                        Volatile.Write(ref _idleRoll, null);
                    }

                    File.Delete(files[i]);
                }

                Volatile.Write(ref _rolledUntil, Math.Max(_rolledUntil, rotatedAt));
            }
            finally
            {
                Volatile.Write(ref _backgroundRoll, null);
                _rolling.Release();
            }
        }
        finally
        {
            if (!background)
            {
                Interlocked.Decrement(ref _waitingRolls);
            }
        }
    }

    /// <summary>
    /// Whether this process used more than <see cref="PredictionLogOptions.BusyShare"/> of its processors since the
    /// previous call (or its start); background rolls ask, one at a time.
    /// </summary>
    private bool KeptProcessorsBusy()
    {
        var (at, cpu) = (_time.GetTimestamp(), Environment.CpuUsage.TotalTime);
        var busy = (cpu - _cpuSampled).TotalSeconds > _options.BusyShare * _time.GetElapsedTime(_cpuSampledAt, at).TotalSeconds * Environment.ProcessorCount;
        (_cpuSampledAt, _cpuSampled) = (at, cpu);
        return busy;
    }

    private int ClosedFiles() => Directory.EnumerateFiles(_options.Folder, "wal-*.closed").Count();

    /// <summary>
    /// Rolls one write-ahead file, converting it at <paramref name="priority"/>; <paramref name="yield"/> interrupts its
    /// conversion (not its upload).
    /// </summary>
    private async Task RollFileAsync(string file, ConversionPriority priority, CancellationToken yield, CancellationToken cancellationToken)
    {
        // A line torn by a crash mid-write belongs to a request that never got its answer: cut it.
        var length = new FileInfo(file).Length;
        if (length > 0)
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            var end = length;
            while (end > 0)
            {
                stream.Position = end - 1;
                if (stream.ReadByte() == '\n')
                {
                    break;
                }

                end--;
            }

            stream.SetLength(end);
            length = end;
        }

        if (length == 0)
        {
            return;
        }

        var scratch = Path.Combine(Path.GetTempPath(), "ballast-roll-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            // At a low priority when it may wait, so that it takes the CPU requests leave rather than queueing them;
            // in the server's converter process, else on a thread of this one.
            if (priority == ConversionPriority.Idle)
            {
                await StarvedConversions.WaitAsync(yield).ConfigureAwait(false);
            }

            var request = new WalConversionRequest(file, _instance, scratch, priority);
            var groups = _options.Converter is { } converter
                ? await converter.ConvertAsync(request, yield, cancellationToken).ConfigureAwait(false)
                : await WalConverterProcess.ConvertHereAsync(request, yield, cancellationToken).ConfigureAwait(false);
            var segment = $"{_instance}-{Path.GetFileNameWithoutExtension(file)}.parquet";
            foreach (var (endpoint, hour, local) in groups)
            {
                await using var content = File.OpenRead(local);
                await _artifacts.PutAsync($"{SegmentFolder}/{endpoint}/{hour}/{segment}", content, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _segments);
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// Converts a write-ahead file into one Parquet file per endpoint and hour in <paramref name="scratch"/>, rows in
    /// the file's order, which is write order (readers order by <see cref="PredictionSegments.Order"/>). Lines written
    /// before records had a sequence get a null one. A file of one endpoint and hour (the usual case: files last seconds
    /// to a minute) streams from the JSON reader to the Parquet writer; others are read once into a table, then split.
    /// <paramref name="cancellationToken"/> interrupts DuckDB.
    /// </summary>
    internal static List<WalConversionGroup> ConvertFile(string file, string instance, string scratch, CancellationToken cancellationToken)
    {
        var records = "SELECT * EXCLUDE (sequence) REPLACE (inputs::VARCHAR AS inputs, outputs::VARCHAR AS outputs), " + Literal(instance) + " AS instance, sequence " +
            "FROM read_json(" + Literal(file) + ", format = 'newline_delimited', columns = {" +
            "prediction_id: 'VARCHAR', endpoint: 'VARCHAR', variant: 'VARCHAR', model: 'VARCHAR', timestamp: 'BIGINT', latency_ms: 'DOUBLE', " +
            "routing_key: 'VARCHAR', kind: 'VARCHAR', inputs: 'JSON', outputs: 'JSON', expectations: 'VARCHAR', sequence: 'BIGINT'})";
        // zstd's fastest level: a segment lives until its hour is compacted (at the default level, the long-term file),
        // and at peak this conversion runs once per record. Level 1 takes ~0.5 us a record off level 3's ~2.6 us (iris,
        // bench/README.md), for files of about the same size.
        const string Parquet = "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)";
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, "SET threads = 1; SET memory_limit = '256MB';");
        if (SingleGroupOf(file) is var (endpoint, hour))
        {
            var local = Path.Combine(scratch, "0.parquet");
            Run(connection, $"COPY ({records}) TO {Literal(local)} {Parquet}", cancellationToken);
            return [new WalConversionGroup(endpoint, hour, local)];
        }

        Run(connection, $"CREATE TABLE rows AS {records}", cancellationToken);
        var split = new List<WalConversionGroup>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT DISTINCT endpoint, strftime(make_timestamp(timestamp * 1000), '%Y-%m-%d-%H') FROM rows ORDER BY 1, 2";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                split.Add(new WalConversionGroup(reader.GetString(0), reader.GetString(1), Path.Combine(scratch, $"{split.Count}.parquet")));
            }
        }

        foreach (var group in split)
        {
            Run(connection, $"COPY (SELECT * FROM rows WHERE endpoint = {Literal(group.Endpoint)} AND strftime(make_timestamp(timestamp * 1000), '%Y-%m-%d-%H') = {Literal(group.Hour)}) " +
                $"TO {Literal(group.Local)} {Parquet}", cancellationToken);
        }

        return split;
    }

    /// <summary>Runs a statement that <paramref name="cancellationToken"/> interrupts (then throws <see cref="OperationCanceledException"/>).</summary>
    internal static void Run(DuckDBConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var interrupt = cancellationToken.Register(command.Cancel);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            command.ExecuteNonQuery();
        }
        catch (DuckDBException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    private static ReadOnlySpan<byte> EndpointName => "endpoint"u8;

    private static ReadOnlySpan<byte> TimestampName => "timestamp"u8;

    /// <summary>
    /// The one endpoint and hour of every line of a write-ahead file (a quick scan: each line is read up to its endpoint
    /// and timestamp, which come first), or null when the lines have several, or one is not a record as the log writes them.
    /// </summary>
    private static (string Endpoint, string Hour)? SingleGroupOf(string file)
    {
        (string Endpoint, long Hour)? group = null;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var filled = 0;
            while (true)
            {
                var read = stream.Read(buffer, filled, buffer.Length - filled);
                filled += read;
                var start = 0;
                int end;
                while ((end = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n')) >= 0)
                {
                    if (GroupOf(buffer.AsSpan(start, end), group?.Endpoint) is not { } line || (group is { } first && first != line))
                    {
                        return null;
                    }

                    group = line;
                    start += end + 1;
                }

                if (read == 0)
                {
                    // The roll cut the file after its last complete line.
                    return filled == start && group is var (endpoint, hour)
                        ? (endpoint, DateTimeOffset.FromUnixTimeMilliseconds(hour * 3_600_000).ToString("yyyy-MM-dd-HH", CultureInfo.InvariantCulture))
                        : null;
                }

                buffer.AsSpan(start, filled - start).CopyTo(buffer);
                filled -= start;
                if (filled == buffer.Length)
                {
                    // A line longer than the buffer (large tensors): a larger one.
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A line's endpoint and hour since the epoch, or null when it has not both; the endpoint is <paramref name="known"/>
    /// itself when equal (no new string per line).
    /// </summary>
    private static (string Endpoint, long Hour)? GroupOf(ReadOnlySpan<byte> line, string? known)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? endpoint = null;
            long? timestamp = null;
            while ((endpoint is null || timestamp is null) && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(EndpointName))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return null;
                    }

                    endpoint = known is not null && reader.ValueTextEquals(known) ? known : reader.GetString()!;
                }
                else if (reader.ValueTextEquals(TimestampName))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < 0)
                    {
                        return null;
                    }

                    timestamp = value;
                }
                else if (!reader.Read() || !reader.TrySkip())
                {
                    return null;
                }
            }

            return endpoint is not null && timestamp is { } milliseconds ? (endpoint, milliseconds / 3_600_000) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static long SequenceOf(string path) =>
        long.TryParse(Path.GetFileNameWithoutExtension(path).AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) ? sequence : 0;

    // The record's property names, encoded once (the same bytes as writing the names).
    private static readonly JsonEncodedText PredictionIdProperty = JsonEncodedText.Encode("prediction_id");
    private static readonly JsonEncodedText EndpointProperty = JsonEncodedText.Encode("endpoint");
    private static readonly JsonEncodedText VariantProperty = JsonEncodedText.Encode("variant");
    private static readonly JsonEncodedText ModelProperty = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText TimestampProperty = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText LatencyMsProperty = JsonEncodedText.Encode("latency_ms");
    private static readonly JsonEncodedText RoutingKeyProperty = JsonEncodedText.Encode("routing_key");
    private static readonly JsonEncodedText KindProperty = JsonEncodedText.Encode("kind");
    private static readonly JsonEncodedText InputsProperty = JsonEncodedText.Encode("inputs");
    private static readonly JsonEncodedText OutputsProperty = JsonEncodedText.Encode("outputs");
    private static readonly JsonEncodedText ExpectationsProperty = JsonEncodedText.Encode("expectations");

    // One buffer and writer per thread: a record is serialized in one pass, tensors written straight as JSON.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static ArrayBufferWriter<byte> Serialize(PredictionRecord record)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString(PredictionIdProperty, record.PredictionId);
        writer.WriteString(EndpointProperty, record.Endpoint);
        writer.WriteString(VariantProperty, record.Variant);
        writer.WriteString(ModelProperty, record.Model);
        writer.WriteNumber(TimestampProperty, record.Timestamp);
        writer.WriteNumber(LatencyMsProperty, record.LatencyMs);
        if (record.RoutingKey is null)
        {
            writer.WriteNull(RoutingKeyProperty);
        }
        else
        {
            writer.WriteString(RoutingKeyProperty, record.RoutingKey);
        }

        writer.WriteString(KindProperty, record.Kind);
        TensorJson.WriteTensors(writer, InputsProperty, record.Inputs);
        if (record.EncodedOutputs is { } encoded)
        {
            writer.WritePropertyName(OutputsProperty);
            writer.WriteRawValue(encoded, skipInputValidation: true);
        }
        else
        {
            TensorJson.WriteTensors(writer, OutputsProperty, record.Outputs);
        }

        if (record.Expectations is not null)
        {
            writer.WriteString(ExpectationsProperty, record.Expectations);
        }

        writer.WriteEndObject();
        writer.Flush();
        buffer.Write("\n"u8);
        return buffer;
    }
}
