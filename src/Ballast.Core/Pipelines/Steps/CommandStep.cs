using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Storage;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: command</c>: runs any executable in the attempt's scratch folder. Inputs:
/// <c>command</c> (the executable), <c>args</c> (list; file outputs of other steps become local copies' paths),
/// <c>env</c> (map), <c>inputs</c> (local files the command reads, hashed into the cache key), <c>outputs</c>
/// (map of output name to a file the command writes, relative to its folder; stored as artifacts) and
/// <c>metrics</c> (a JSON object file the command writes; its values become outputs, numbers also MLflow metrics).
/// stdout and stderr go to the step's log; a non-zero exit code fails the attempt; cancellation kills the process tree.
/// </summary>
public sealed class CommandStep : IPipelineStep, IStepInputHashes
{
    public string Kind => "command";

    public IReadOnlyList<string> Validate(JsonObject inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        if (inputs["command"] is not JsonValue command || !command.TryGetValue<string>(out var text) || text.Length == 0)
        {
            problems.Add("with.command (the executable to run) is required");
        }

        if (inputs["args"] is { } args && args is not JsonArray)
        {
            problems.Add("with.args must be a list");
        }

        if (inputs["env"] is { } env && env is not JsonObject)
        {
            problems.Add("with.env must be a map of names to values");
        }

        if (inputs["inputs"] is { } files && files is not JsonArray)
        {
            problems.Add("with.inputs must be a list of files");
        }

        if (inputs["outputs"] is { } outputs && (outputs is not JsonObject map || map.Any(pair => pair.Value is not JsonValue)))
        {
            problems.Add("with.outputs must map output names to file paths");
        }

        problems.AddRange(inputs.Select(pair => pair.Key).Where(key => key is not ("command" or "args" or "env" or "inputs" or "outputs" or "metrics"))
            .Select(key => $"with.{key} is not an input of a command step (command, args, env, inputs, outputs, metrics)"));
        return problems;
    }

    public async Task<string> HashInputsAsync(JsonObject inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var digests = new List<string>();
        foreach (var file in (inputs["inputs"] as JsonArray ?? []).Select(node => PipelineExpressions.Text(node, output => output["sha256"]!.GetValue<string>())))
        {
            if (!File.Exists(file))
            {
                throw new StepFailedException($"input file '{file}' does not exist");
            }

            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 81_920, FileOptions.Asynchronous);
            digests.Add($"{file}={await ContentAddressing.Sha256HexAsync(stream, cancellationToken).ConfigureAwait(false)}");
        }

        return string.Join("\n", digests);
    }

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cancellationToken = context.CancellationToken;

        // File outputs of other steps are copied in and passed by local path.
        var locals = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Files(context.With))
        {
            var sha = file["sha256"]!.GetValue<string>();
            if (!locals.ContainsKey(sha))
            {
                locals[sha] = await context.DownloadAsync(file).ConfigureAwait(false);
            }
        }

        var with = context.Resolve(file => locals[file["sha256"]!.GetValue<string>()]);
        string Text(JsonNode? node) => PipelineExpressions.Text(node, file => locals[file["sha256"]!.GetValue<string>()]);

        var start = new ProcessStartInfo(Text(with["command"]))
        {
            WorkingDirectory = context.WorkDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in with["args"] as JsonArray ?? [])
        {
            start.ArgumentList.Add(Text(arg));
        }

        foreach (var (name, value) in with["env"] as JsonObject ?? [])
        {
            start.Environment[name] = Text(value);
        }

        start.Environment["BALLAST_PIPELINE"] = context.Pipeline;
        start.Environment["BALLAST_PIPELINE_RUN"] = context.RunId;
        start.Environment["BALLAST_PIPELINE_STEP"] = context.Step;
        start.Environment["MLFLOW_RUN_ID"] = context.TrackingRunId;

        await context.Log.WriteLineAsync($"$ {start.FileName} {string.Join(" ", start.ArgumentList)}").ConfigureAwait(false);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) { context.Log.WriteLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) { context.Log.WriteLine(line.Data); } };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new StepFailedException($"cannot start '{start.FileName}': {exception.Message}");
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        // WaitForExitAsync returns once the output streams are drained.
        if (process.ExitCode != 0)
        {
            throw new StepFailedException($"'{start.FileName}' exited with code {process.ExitCode.ToString(CultureInfo.InvariantCulture)}");
        }

        var results = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (name, path) in with["outputs"] as JsonObject ?? [])
        {
            var local = Path.GetFullPath(Path.Combine(context.WorkDirectory, Text(path)));
            if (!File.Exists(local))
            {
                throw new StepFailedException($"output '{name}': the command did not write {Text(path)}");
            }

            results[name] = await context.PutFileAsync(name, local).ConfigureAwait(false);
        }

        if (with["metrics"] is { } metrics)
        {
            var local = Path.Combine(context.WorkDirectory, Text(metrics));
            if (!File.Exists(local))
            {
                throw new StepFailedException($"metrics: the command did not write {Text(metrics)}");
            }

            JsonObject values;
            try
            {
                values = JsonNode.Parse(await File.ReadAllTextAsync(local, cancellationToken).ConfigureAwait(false)) as JsonObject
                         ?? throw new StepFailedException($"metrics: {Text(metrics)} holds no JSON object");
            }
            catch (JsonException exception)
            {
                throw new StepFailedException($"metrics: {Text(metrics)} is not JSON: {exception.Message}");
            }

            foreach (var (name, value) in values)
            {
                results.TryAdd(name, value?.DeepClone());
            }
        }

        return results;
    }

    private static IEnumerable<JsonObject> Files(JsonNode? node) => node switch
    {
        JsonObject obj when StepOutputs.IsFile(obj) => [obj],
        JsonObject obj => obj.SelectMany(pair => Files(pair.Value)),
        JsonArray array => array.SelectMany(Files),
        _ => [],
    };
}
