using Ballast.Datasets;
using System.Globalization;
using System.Text;
using Ballast.Audit;
using Ballast.Tracking;

namespace Ballast.Registry;

/// <summary>A dataset the training run used; <see cref="DatasetVersion"/> (<c>name@version</c>) when it is a Ballast dataset version, whose profile is then summarised.</summary>
public sealed record ModelCardData(string Context, string Name, string Digest, string Source, string? Profile, string? DatasetVersion = null);

public sealed record ModelCardHistory(DateTimeOffset At, string Actor, string Action, string? Details);

/// <summary>
/// What a model version is, where it came from and how it did: purpose and owner (tags), stage and aliases, the
/// training run's params and metrics, its datasets with their profiles, lineage, the stage/alias history from the
/// audit trail, and free-text sections people edit (kept as <c>ballast.card.&lt;section&gt;</c> version tags).
/// </summary>
public sealed record ModelCard(
    string Name,
    string Version,
    string? Description,
    string? Purpose,
    string? Owner,
    string Stage,
    IReadOnlyList<string> Aliases,
    string Source,
    string? RunId,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyList<ModelCardData> TrainingData,
    LineageGraph Lineage,
    IReadOnlyList<ModelCardHistory> History,
    IReadOnlyDictionary<string, string> Sections,
    string? FeatureService = null)
{
    public const string SectionTagPrefix = "ballast.card.";

    /// <summary>The version tag naming the feature service the model was trained on (its inputs come from it at serving).</summary>
    public const string FeatureServiceTag = ModelRegistration.FeatureServiceTag;

    public static async Task<ModelCard> BuildAsync(RegistryStore registry, RunStore runs, AuditLog audit, string name, string version, DatasetStore? datasets = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(audit);
        var modelVersion = await registry.GetVersionAsync(name, version, cancellationToken).ConfigureAwait(false);
        var model = await registry.GetModelAsync(name, cancellationToken).ConfigureAwait(false);
        var lineage = await new ModelLineage(registry, runs, datasets).ForModelVersionAsync(name, version, cancellationToken).ConfigureAwait(false);
        var runId = lineage.Nodes.FirstOrDefault(node => node.Kind == "run" && !node.Properties.ContainsKey("missing"))?.Properties["run_id"];
        Run? run = runId is null ? null : await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false);

        var tags = model.Tags.Concat(modelVersion.Tags).GroupBy(tag => tag.Key).ToDictionary(group => group.Key, group => group.Last().Value);
        var versionHistory = (await audit.ListAsync(new AuditQuery("model_version", $"{name}/{version}", MaxResults: AuditLog.MaxResultsLimit), cancellationToken).ConfigureAwait(false)).Events;
        // Alias moves recorded on the model ("champion: 1 -> 2") that brought an alias to this version or took it away.
        bool ConcernsThisVersion(AuditEvent e) => e.Action == "set_alias" && e.Details is { } details
            && (details.EndsWith($"-> {version}", StringComparison.Ordinal) || details.Contains($": {version} ->", StringComparison.Ordinal));
        var aliasHistory = (await audit.ListAsync(new AuditQuery("registered_model", name, MaxResults: AuditLog.MaxResultsLimit), cancellationToken).ConfigureAwait(false)).Events
            .Where(ConcernsThisVersion);
        var history = versionHistory.Concat(aliasHistory).OrderBy(e => e.Id)
            .Select(e => new ModelCardHistory(e.OccurredAt, e.Actor, e.Action, e.Details)).ToList();

        return new ModelCard(
            modelVersion.Name,
            modelVersion.Version,
            modelVersion.Description ?? model.Description,
            tags.GetValueOrDefault("purpose") ?? model.Description,
            tags.GetValueOrDefault("owner"),
            modelVersion.CurrentStage,
            modelVersion.Aliases,
            modelVersion.Source,
            run?.Info.RunId,
            run?.Data.Params.ToDictionary(param => param.Key, param => param.Value) ?? [],
            run?.Data.Metrics.ToDictionary(metric => metric.Key, metric => metric.Value) ?? [],
            await TrainingDataAsync(run, datasets, cancellationToken).ConfigureAwait(false),
            lineage,
            history,
            modelVersion.Tags.Where(tag => tag.Key.StartsWith(SectionTagPrefix, StringComparison.Ordinal))
                .ToDictionary(tag => tag.Key[SectionTagPrefix.Length..], tag => tag.Value ?? ""),
            modelVersion.Tags.FirstOrDefault(tag => tag.Key == FeatureServiceTag)?.Value);
    }

    private static async Task<List<ModelCardData>> TrainingDataAsync(Run? run, DatasetStore? datasets, CancellationToken cancellationToken)
    {
        var data = new List<ModelCardData>();
        foreach (var input in run?.Inputs ?? [])
        {
            var context = input.Tags.FirstOrDefault(tag => tag.Key == "mlflow.data.context")?.Value ?? "training";
            var item = new ModelCardData(context, input.Dataset.Name, input.Dataset.Digest, input.Dataset.Source, input.Dataset.Profile);
            if (datasets is not null && await datasets.FindByDigestAsync(input.Dataset.Name, input.Dataset.Digest, cancellationToken).ConfigureAwait(false) is { } version)
            {
                item = item with { DatasetVersion = version.Reference, Profile = item.Profile ?? ProfileSummary(version) };
            }

            data.Add(item);
        }

        return data;
    }

    /// <summary>"200 rows; davis.csv: rownames, sex, weight (2 with nulls)".</summary>
    private static string ProfileSummary(DatasetVersion version)
    {
        var tables = (version.Profile?.Tables ?? []).Select(table =>
        {
            var withNulls = table.Columns.Count(column => column.Nulls > 0);
            return $"{table.Path}: {string.Join(", ", table.Columns.Select(column => column.Name))}{(withNulls > 0 ? $" ({withNulls} with nulls)" : "")}";
        });
        return string.Join("; ", new[] { version.RowCount is { } rows ? $"{rows} rows" : $"{version.FileCount} files" }.Concat(tables));
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"# {Name} v{Version}\n\n");
        md.Append(CultureInfo.InvariantCulture, $"- **Purpose:** {Purpose ?? "(not stated: set the `purpose` tag)"}\n");
        md.Append(CultureInfo.InvariantCulture, $"- **Owner:** {Owner ?? "(not stated: set the `owner` tag)"}\n");
        md.Append(CultureInfo.InvariantCulture, $"- **Stage:** {Stage}; **aliases:** {(Aliases.Count == 0 ? "none" : string.Join(", ", Aliases))}\n");
        md.Append(CultureInfo.InvariantCulture, $"- **Source:** `{Source}`; **run:** {RunId ?? "unknown"}\n");
        if (FeatureService is not null)
        {
            md.Append(CultureInfo.InvariantCulture, $"- **Feature service:** {FeatureService} (its features are the model's inputs: docs/features.md)\n");
        }

        md.Append('\n');
        if (Description is not null)
        {
            md.Append(Description).Append("\n\n");
        }

        md.Append("## Training data\n\n");
        if (TrainingData.Count == 0)
        {
            md.Append("No dataset was logged with the training run.\n\n");
        }
        else
        {
            md.Append("| context | dataset | digest | profile |\n| --- | --- | --- | --- |\n");
            foreach (var data in TrainingData)
            {
                md.Append(CultureInfo.InvariantCulture, $"| {data.Context} | {data.DatasetVersion ?? data.Name} | `{data.Digest}` | {data.Profile ?? "-"} |\n");
            }

            md.Append('\n');
        }

        Table(md, "Parameters", Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)));
        Table(md, "Evaluation metrics", Metrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => (m.Key, m.Value.ToString("G6", CultureInfo.InvariantCulture))));

        md.Append("## History\n\n");
        foreach (var entry in History)
        {
            md.Append(CultureInfo.InvariantCulture, $"- {entry.At:u} {entry.Actor}: {entry.Action}{(entry.Details is null ? "" : " (" + entry.Details + ")")}\n");
        }

        foreach (var (section, text) in Sections.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            md.Append(CultureInfo.InvariantCulture, $"\n## {section}\n\n{text}\n");
        }

        return md.ToString();
    }

    private static void Table(StringBuilder md, string title, IEnumerable<(string Key, string Value)> rows)
    {
        md.Append(CultureInfo.InvariantCulture, $"## {title}\n\n");
        var list = rows.ToList();
        if (list.Count == 0)
        {
            md.Append("None logged.\n\n");
            return;
        }

        md.Append("| name | value |\n| --- | --- |\n");
        foreach (var (key, value) in list)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {key} | {value} |\n");
        }

        md.Append('\n');
    }
}
