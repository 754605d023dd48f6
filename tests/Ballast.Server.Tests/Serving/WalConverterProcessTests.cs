using System.Diagnostics;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.Tests.Serving;

/// <summary>
/// The prediction log's conversions in a child process of the real <c>ballast</c> executable (<c>ballast __convert-wal</c>):
/// one child for conversion after conversion, killed when interrupted, kept when a file fails, and conversions in
/// process when it cannot start.
/// </summary>
public sealed class WalConverterProcessTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("ballast-wal-converter-");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static WalConverterProcess Converter() => new("dotnet", [CliProcess.EntryAssembly, WalConverterProcess.Command]);

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task A_log_converts_its_files_in_one_child_process_that_ends_with_the_log()
    {
        var converter = Converter();
        var store = ArtifactStoreFactory.Create(Path.Combine(_root.FullName, "artifacts"), null, null);
        var log = await PredictionLog.OpenAsync(new PredictionLogOptions(Path.Combine(_root.FullName, "wal")) { Converter = converter }, store, TimeProvider.System, Cancel);
        int? child;
        try
        {
            // Two endpoints in one file (the split path), then one (the streaming path).
            await AppendAsync(log, "iris", "a", 3);
            await AppendAsync(log, "titanic", "b", 2);
            await log.RollAsync(Cancel);
            child = converter.ChildProcessId;
            child.ShouldNotBeNull();
            await AppendAsync(log, "iris", "c", 4);
            await log.RollAsync(Cancel);
            converter.ChildProcessId.ShouldBe(child, "one child for every conversion");
            converter.Unavailable.ShouldBeNull();

            (await IdsAsync(store, await log.SegmentsAsync("iris", cancellationToken: Cancel))).ShouldBe("a0 a1 a2 c0 c1 c2 c3");
            (await IdsAsync(store, await log.SegmentsAsync("titanic", cancellationToken: Cancel))).ShouldBe("b0 b1");
        }
        finally
        {
            await log.DisposeAsync();
        }

        ExitedOrGone(child.Value).ShouldBeTrue("the log's disposal ends the child");
    }

    [Fact]
    public async Task An_interrupted_conversion_kills_the_child_and_the_next_conversion_starts_another()
    {
        await using var converter = Converter();
        var first = await converter.ConvertAsync(Request(WriteWal("one", 3)), CancellationToken.None, Cancel);
        first.ShouldHaveSingleItem().Endpoint.ShouldBe("iris");
        var child = converter.ChildProcessId!.Value;

        using var interrupt = new CancellationTokenSource();
        await interrupt.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => converter.ConvertAsync(Request(WriteWal("two", 3)), interrupt.Token, Cancel));
        converter.ChildProcessId.ShouldBeNull();
        ExitedOrGone(child).ShouldBeTrue();

        (await converter.ConvertAsync(Request(WriteWal("three", 2)), CancellationToken.None, Cancel)).ShouldHaveSingleItem();
        converter.ChildProcessId.ShouldNotBeNull().ShouldNotBe(child);
    }

    [Fact]
    public async Task A_conversion_that_fails_answers_the_reason_and_keeps_the_child()
    {
        await using var converter = Converter();
        await converter.ConvertAsync(Request(WriteWal("one", 1)), CancellationToken.None, Cancel);
        var child = converter.ChildProcessId;

        var missing = Path.Combine(_root.FullName, "missing.jsonl");
        (await Should.ThrowAsync<IOException>(() => converter.ConvertAsync(Request(missing), CancellationToken.None, Cancel)))
            .Message.ShouldContain("missing.jsonl");
        converter.ChildProcessId.ShouldBe(child);
        (await converter.ConvertAsync(Request(WriteWal("two", 2)), CancellationToken.None, Cancel)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Without_an_executable_to_start_conversions_run_in_this_process()
    {
        await using var converter = new WalConverterProcess(Path.Combine(_root.FullName, "no-such-ballast"), []);

        var groups = await converter.ConvertAsync(Request(WriteWal("one", 2)), CancellationToken.None, Cancel);

        groups.ShouldHaveSingleItem().Hour.ShouldBe("2026-11-25-09");
        (converter.Unavailable, converter.ChildProcessId).ShouldSatisfyAllConditions(
            pair => pair.Unavailable.ShouldNotBeNull(),
            pair => pair.ChildProcessId.ShouldBeNull());
        (await IdsAsync(null, [groups[0].Local])).ShouldBe("one0 one1");
    }

    [Fact]
    public async Task The_child_answers_a_line_that_is_not_a_request_with_an_error_and_goes_on()
    {
        var output = new StringWriter();
        var request = System.Text.Json.JsonSerializer.Serialize(new { file = WriteWal("one", 2), instance = "test", scratch = Request("").Scratch, low_priority = false });

        await WalConverterProcess.ServeAsync(new StringReader("not json\n" + request + "\n"), output, Cancel);

        var answers = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        answers.Length.ShouldBe(2);
        answers[0].ShouldStartWith("{\"error\":");
        answers[1].ShouldContain("\"endpoint\":\"iris\"");
    }

    private WalConversionRequest Request(string file)
    {
        var scratch = Directory.CreateDirectory(Path.Combine(_root.FullName, "scratch-" + Guid.NewGuid().ToString("N"))).FullName;
        return new WalConversionRequest(file, "test", scratch, ConversionPriority.Normal);
    }

    /// <summary>A write-ahead file of <paramref name="count"/> iris records at 09:30 on 2026-11-25, as the log writes them.</summary>
    private string WriteWal(string prefix, int count)
    {
        var file = Path.Combine(_root.FullName, $"wal-{prefix}.closed");
        var at = new DateTimeOffset(2026, 11, 25, 9, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        File.WriteAllLines(file, Enumerable.Range(0, count).Select(i =>
            $$"""{"sequence":{{i}},"prediction_id":"{{prefix}}{{i}}","endpoint":"iris","variant":"a","model":"iris/1","timestamp":{{at}},"latency_ms":0.4,"routing_key":null,"kind":"primary","inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],"outputs":[]}"""));
        return file;
    }

    private static async Task AppendAsync(PredictionLog log, string endpoint, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            (await log.AppendAsync(new PredictionRecord($"{prefix}{i}", endpoint, "main", endpoint + "/1", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0.4, null,
                [new Tensor("x", TensorDatatypes.Fp32, [1], new float[] { i })], []), Cancel)).ShouldBeTrue();
        }
    }

    /// <summary>The prediction ids in the files (segments in <paramref name="store"/>, or local files without one), in order.</summary>
    private async Task<string> IdsAsync(IArtifactStore? store, IReadOnlyList<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            files.Add(store is null ? path : await store.LocalFileAsync(path, Path.Combine(_root.FullName, Guid.NewGuid().ToString("N") + ".parquet"), Cancel));
        }

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT string_agg(prediction_id, ' ' ORDER BY prediction_id) FROM {PredictionSegments.Relation(files)}";
        return (string)command.ExecuteScalar()!;
    }

    private static bool ExitedOrGone(int id)
    {
        try
        {
            using var process = Process.GetProcessById(id);
            return process.WaitForExit(10_000);
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}
