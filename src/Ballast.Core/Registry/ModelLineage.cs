using Ballast.Datasets;
using Ballast.Tracking;

namespace Ballast.Registry;

/// <summary>A node of a lineage graph: a dataset version, a run or a model version, with what identifies it.</summary>
public sealed record LineageNode(string Id, string Kind, string Label, IReadOnlyDictionary<string, string?> Properties);

/// <summary>A directed edge: <c>input_to</c> (dataset → run, with the input's context) or <c>produced</c> (run → model version).</summary>
public sealed record LineageEdge(string From, string To, string Relation, string? Context = null);

public sealed record LineageGraph(IReadOnlyList<LineageNode> Nodes, IReadOnlyList<LineageEdge> Edges);

/// <summary>
/// Where a model version came from: the run that produced it (its <c>run_id</c>, or the run in a <c>runs:/&lt;id&gt;/…</c>
/// source) and the datasets that run logged as inputs. An input whose name and digest (or digest prefix, as MLflow
/// clients log up to 36 characters) match a Ballast dataset version becomes that version's node, <c>name@version</c>.
/// Deployments join the graph when serving exists.
/// </summary>
public sealed class ModelLineage(RegistryStore registry, RunStore runs, DatasetStore? datasets = null)
{
    public async Task<LineageGraph> ForModelVersionAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        var modelVersion = await registry.GetVersionAsync(name, version, cancellationToken).ConfigureAwait(false);
        var versionId = $"model_version:{modelVersion.Name}/{modelVersion.Version}";
        var nodes = new List<LineageNode>
        {
            new(versionId, "model_version", $"{modelVersion.Name} v{modelVersion.Version}", new Dictionary<string, string?>
            {
                ["name"] = modelVersion.Name,
                ["version"] = modelVersion.Version,
                ["stage"] = modelVersion.CurrentStage,
                ["aliases"] = string.Join(",", modelVersion.Aliases),
                ["source"] = modelVersion.Source,
            }),
        };
        var edges = new List<LineageEdge>();

        var runId = modelVersion.RunId ?? (RunArtifactUri.TryParse(modelVersion.Source, out var source) ? source.RunId : null);
        if (runId is null)
        {
            return new LineageGraph(nodes, edges);
        }

        Run run;
        try
        {
            run = await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false);
        }
        catch (TrackingException exception) when (exception.Code == TrackingException.ResourceDoesNotExist)
        {
            // The version names a run this server does not know (registered from elsewhere): the graph ends here.
            nodes.Add(new LineageNode($"run:{runId}", "run", runId, new Dictionary<string, string?> { ["run_id"] = runId, ["missing"] = "true" }));
            edges.Add(new LineageEdge($"run:{runId}", versionId, "produced"));
            return new LineageGraph(nodes, edges);
        }

        var runNodeId = $"run:{run.Info.RunId}";
        nodes.Add(new LineageNode(runNodeId, "run", run.Info.RunName ?? run.Info.RunId, new Dictionary<string, string?>
        {
            ["run_id"] = run.Info.RunId,
            ["experiment_id"] = run.Info.ExperimentId,
            ["status"] = run.Info.Status,
            ["start_time"] = run.Info.StartTime.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));
        edges.Add(new LineageEdge(runNodeId, versionId, "produced"));

        foreach (var input in run.Inputs)
        {
            var datasetId = $"dataset:{input.Dataset.Name}@{input.Dataset.Digest}";
            var properties = new Dictionary<string, string?>
            {
                ["name"] = input.Dataset.Name,
                ["digest"] = input.Dataset.Digest,
                ["source_type"] = input.Dataset.SourceType,
                ["source"] = input.Dataset.Source,
            };
            var label = $"{input.Dataset.Name}@{input.Dataset.Digest}";
            if (datasets is not null && await datasets.FindByDigestAsync(input.Dataset.Name, input.Dataset.Digest, cancellationToken).ConfigureAwait(false) is { } dataset)
            {
                datasetId = $"dataset_version:{dataset.Reference}";
                label = dataset.Reference;
                properties["version"] = dataset.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
                properties["digest"] = dataset.Digest;
                properties["rows"] = dataset.RowCount?.ToString(System.Globalization.CultureInfo.InvariantCulture);
                properties["files"] = dataset.FileCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (nodes.TrueForAll(node => node.Id != datasetId))
            {
                nodes.Add(new LineageNode(datasetId, "dataset_version", label, properties));
            }

            edges.Add(new LineageEdge(datasetId, runNodeId, "input_to", input.Tags.FirstOrDefault(tag => tag.Key == "mlflow.data.context")?.Value));
        }

        return new LineageGraph(nodes, edges);
    }
}
