using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ballast.Serving;

/// <summary>One conversion asked of a converter process (a line of its input), and its answer (a line of its output).</summary>
public sealed record WalConversionRequest(string File, string Instance, string Scratch, ConversionPriority Priority);

/// <summary>What a conversion's thread runs at (<see cref="BackgroundPriority"/>): as requests, nice 10, or <c>SCHED_IDLE</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConversionPriority>))]
public enum ConversionPriority
{
    Normal,
    Low,
    Idle,
}

/// <summary>The Parquet files a conversion wrote, one per endpoint and hour, or the error that stopped it.</summary>
public sealed record WalConversionResponse(IReadOnlyList<WalConversionGroup>? Groups, string? Error = null);

public sealed record WalConversionGroup(string Endpoint, string Hour, string Local);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WalConversionRequest))]
[JsonSerializable(typeof(WalConversionResponse))]
internal sealed partial class WalConversionJsonContext : JsonSerializerContext;

/// <summary>
/// Converts the prediction log's write-ahead files to Parquet in a child process (<c>ballast __convert-wal</c>), so
/// that DuckDB's memory traffic (hundreds of MB mapped and faulted in per file) stays out of the serving process's
/// address space and caches: on a busy 2-core server the serving process answered 7-11% more requests a second with
/// the conversions in a child (bench/results/serving.md). One child serves conversion after conversion, each at the
/// priority asked; interrupting one kills it, and the next conversion starts another. When the child cannot be started
/// at all, conversions run in this process (<see cref="Unavailable"/> says why). The prediction log disposes it.
/// </summary>
public sealed class WalConverterProcess(string fileName, IReadOnlyList<string> arguments) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Process? _child;

    /// <summary>The converter for the running <c>ballast</c> executable (the apphost, or <c>dotnet ballast.dll</c>), or null when this is not it (tests).</summary>
    public static WalConverterProcess? ForCurrentExecutable()
    {
        var path = Environment.ProcessPath;
        if (path is null)
        {
            return null;
        }

        if (Path.GetFileNameWithoutExtension(path) == "ballast")
        {
            return new WalConverterProcess(path, [Command]);
        }

        var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
        return Path.GetFileNameWithoutExtension(path) == "dotnet" && entry is { Length: > 0 } && Path.GetFileName(entry) == "ballast.dll"
            ? new WalConverterProcess(path, [entry, Command])
            : null;
    }

    /// <summary>The hidden command that runs <see cref="ServeAsync"/>.</summary>
    public const string Command = "__convert-wal";

    /// <summary>The child's process id while it runs (for tests and diagnostics).</summary>
    public int? ChildProcessId => _child is { HasExited: false } child ? child.Id : null;

    /// <summary>Why conversions run in this process instead (the child could not be started), or null.</summary>
    public string? Unavailable { get; private set; }

    /// <summary>
    /// Converts <paramref name="request"/>'s file in the child, or here when the child cannot be started;
    /// <paramref name="interrupt"/> stops it mid-conversion (killing the child), then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<IReadOnlyList<WalConversionGroup>> ConvertAsync(WalConversionRequest request, CancellationToken interrupt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Unavailable is null && _child is not { HasExited: false })
            {
                _child?.Dispose();
                try
                {
                    _child = Start();
                }
                catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException)
                {
                    _child = null;
                    Unavailable = exception.Message;
                }
            }

            if (_child is not { } child)
            {
                return await ConvertHereAsync(request, interrupt, cancellationToken).ConfigureAwait(false);
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(interrupt, cancellationToken);
            WalConversionResponse response;
            try
            {
                await child.StandardInput.WriteLineAsync(JsonSerializer.Serialize(request, WalConversionJsonContext.Default.WalConversionRequest).AsMemory(), linked.Token).ConfigureAwait(false);
                await child.StandardInput.FlushAsync(linked.Token).ConfigureAwait(false);
                var line = await child.StandardOutput.ReadLineAsync(linked.Token).ConfigureAwait(false)
                    ?? throw new IOException($"The prediction log's converter process ended ({await ExitedAsync(child).ConfigureAwait(false)}).");
                response = JsonSerializer.Deserialize(line, WalConversionJsonContext.Default.WalConversionResponse)
                    ?? throw new IOException("The prediction log's converter process answered null.");
            }
            catch (Exception exception) when (exception is OperationCanceledException or IOException or JsonException)
            {
                // Interrupted mid-conversion, dead or out of step: the next conversion gets a new child.
                Stop();
                throw;
            }

            // A conversion that failed (an unreadable file, a full disk) leaves the child ready for the next.
            return response.Groups ?? throw new IOException(response.Error ?? "The prediction log's converter process answered neither files nor an error.");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Converts in this process, on a thread of its own (DuckDB's conversion is synchronous and takes a second for a busy
    /// minute: it must not hold one of the few pool threads requests are served on), at a low priority when asked. What
    /// follows the conversion runs on the pool, not on that thread, which may be lowered.
    /// </summary>
    public static async Task<IReadOnlyList<WalConversionGroup>> ConvertHereAsync(WalConversionRequest request, CancellationToken interrupt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await Task.Factory.StartNew(
            () =>
            {
                if (request.Priority != ConversionPriority.Normal)
                {
                    BackgroundPriority.LowerCurrentThread(idle: request.Priority == ConversionPriority.Idle);
                }

                return PredictionLog.ConvertFile(request.File, request.Instance, request.Scratch, interrupt);
            },
            cancellationToken,
            TaskCreationOptions.LongRunning | TaskCreationOptions.RunContinuationsAsynchronously,
            TaskScheduler.Default).ConfigureAwait(false);
    }

    private Process Start()
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A small heap and no profile-guided recompilation: the child runs one loop, and its memory and CPU are DuckDB's.
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_TieredPGO"] = "0";
        return Process.Start(start) ?? throw new IOException($"Could not start the converter process {fileName}.");
    }

    private static async Task<string> ExitedAsync(Process child)
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await child.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            return $"exit code {child.ExitCode}";
        }
        catch (OperationCanceledException)
        {
            return "its output closed";
        }
    }

    private void Stop()
    {
        if (_child is { } child)
        {
            try
            {
                child.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            child.Dispose();
            _child = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_child is { HasExited: false } child)
            {
                // End of input ends the child's loop.
                child.StandardInput.Close();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await child.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Stop();
                }
            }

            _child?.Dispose();
            _child = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The child's loop: a request a line on <paramref name="input"/>, its answer a line on <paramref name="output"/>, until the input ends.</summary>
    public static async Task ServeAsync(TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        while (await input.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            WalConversionResponse response;
            try
            {
                var request = JsonSerializer.Deserialize(line, WalConversionJsonContext.Default.WalConversionRequest) ?? throw new JsonException("null request");
                response = new WalConversionResponse(await ConvertHereAsync(request, CancellationToken.None, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                response = new WalConversionResponse(null, exception.Message);
            }

            await output.WriteLineAsync(JsonSerializer.Serialize(response, WalConversionJsonContext.Default.WalConversionResponse)).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
