using System.Text.Json.Nodes;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: fail</c>: fails with <c>with.message</c>; with <c>with.succeed_on_attempt: N</c> it fails the attempts before
/// the Nth and then succeeds (to try retries out).
/// </summary>
public sealed class FailStep : IPipelineStep
{
    public string Kind => "fail";

    public IReadOnlyList<string> Validate(JsonObject inputs) =>
        inputs?["succeed_on_attempt"] is { } attempt && (attempt is not JsonValue value || !value.TryGetValue<int>(out var number) || number < 1)
            ? ["with.succeed_on_attempt must be a positive integer"]
            : [];

    public Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.With["succeed_on_attempt"] is JsonValue value && value.TryGetValue<int>(out var attempt) && context.Attempt >= attempt)
        {
            return Task.FromResult<IReadOnlyDictionary<string, JsonNode?>>(new Dictionary<string, JsonNode?> { ["attempt"] = context.Attempt });
        }

        throw new StepFailedException(context.Text("message") ?? "failed on purpose");
    }
}
