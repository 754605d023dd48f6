using System.Text.Json.Nodes;
using Ballast.Registry;
using Ballast.Tracking;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: promote</c>: moves an alias (default <c>champion</c>) to <c>with.model</c> (a register step's output or
/// <c>models:/NAME/VERSION</c>). Outputs: <c>model</c>, and <c>previous</c> (the version the alias had, or null).
/// </summary>
public sealed class PromoteModelStep(RegistryStore registry) : IPipelineStep
{
    public const string DefaultAlias = "champion";

    public bool Cacheable => false;

    public string Kind => "promote";

    public IReadOnlyList<string> Validate(JsonObject inputs) =>
        inputs?["model"] is null ? ["with.model (a register step's output or models:/NAME/VERSION) is required"] : [];

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (name, version) = ModelInputs.Read(context.With["model"], "model");
        var alias = context.Text("alias") ?? DefaultAlias;
        string? previous = null;
        try
        {
            previous = (await registry.GetVersionByAliasAsync(name, alias, context.CancellationToken).ConfigureAwait(false)).Version;
        }
        catch (TrackingException missing) when (missing.Code == TrackingException.ResourceDoesNotExist)
        {
            // First promotion: nothing had the alias.
        }

        await registry.SetAliasAsync(name, alias, version, context.CancellationToken).ConfigureAwait(false);
        await context.Log.WriteLineAsync($"{name}: alias {alias} {previous ?? "-"} -> {version}").ConfigureAwait(false);
        return new Dictionary<string, JsonNode?> { ["model"] = StepOutputs.Model(name, version), ["previous"] = previous };
    }
}
