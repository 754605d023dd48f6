using System.Globalization;
using Ballast.Audit;
using Ballast.Datasets;
using Ballast.Registry;
using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Server.Dashboard;

/// <summary>
/// Models: the registered models; for one, its versions with stages and aliases, and a version's model card (purpose,
/// owner, params, metrics, training data, sections), stage and alias history, and lineage from its datasets through
/// its run to the endpoints serving it.
/// </summary>
internal static class ModelPage
{
    public const int MaxModels = 500;

    public static async Task<DashboardPage> ListAsync(DashboardContext context)
    {
        var registry = context.Service<RegistryStore>();
        var models = await registry.SearchModelsAsync(new RegistrySearch(MaxResults: MaxModels), context.Cancel).ConfigureAwait(false);
        var body = new Html().Table(["model", "latest versions", "aliases", "description", "updated"], models.Models.Select(m => new[]
        {
            Html.LinkCell(DashboardRoutes.Model(m.Name), m.Name),
            Html.Cell(string.Join(", ", m.LatestVersions.Select(v => $"v{v.Version} ({v.CurrentStage})"))),
            Html.Cell(string.Join(", ", m.Aliases.Select(a => $"@{a.Alias} → v{a.Version}"))), Html.Cell(m.Description), Html.Cell(Html.Time(m.LastUpdatedTimestamp)),
        }), "models", "No registered models yet.");
        if (models.NextPageToken is not null)
        {
            body.Tag("p", $"Only the first {MaxModels} models are listed.", "class=\"muted\"");
        }

        return new DashboardPage("Models", "models", body.ToString());
    }

    public static async Task<DashboardPage> RenderAsync(DashboardContext context)
    {
        var name = context.Http.GetRouteValue("name")!.ToString()!;
        var registry = context.Service<RegistryStore>();
        var model = await registry.GetModelAsync(name, context.Cancel).ConfigureAwait(false);
        var versions = new List<ModelVersion>();
        string? token = null;
        do
        {
            var page = await registry.SearchVersionsAsync(new RegistrySearch($"name = '{name.Replace("'", "''", StringComparison.Ordinal)}'", PageToken: token), context.Cancel).ConfigureAwait(false);
            versions.AddRange(page.Versions);
            token = page.NextPageToken;
        }
        while (token is not null);

        versions = [.. versions.OrderByDescending(v => long.TryParse(v.Version, CultureInfo.InvariantCulture, out var n) ? n : 0)];
        var selected = context.Query("version") ?? versions.FirstOrDefault()?.Version;
        var body = new Html();
        if (model.Description is { } description)
        {
            body.Tag("p", description);
        }

        body.Tag("h2", "Versions");
        body.Table(["version", "stage", "aliases", "run", "created", "source"], versions.Select(v => new[]
        {
            Html.MarkupCell($"<a href=\"{Html.Attribute(DashboardRoutes.Model(name) + "?version=" + Uri.EscapeDataString(v.Version))}\">v{Html.Encode(v.Version)}</a>{(v.Version == selected ? " " + Html.Badge("shown", "info") : "")}"),
            Html.MarkupCell(StageBadge(v.CurrentStage)), Html.Cell(string.Join(", ", v.Aliases.Select(a => "@" + a))),
            v.RunId is { } run ? Html.LinkCell(DashboardRoutes.Run(run), run) : Html.Cell("–"), Html.Cell(Html.Time(v.CreationTimestamp)), Html.Cell(v.Source),
        }), "versions", "No versions yet.");

        if (selected is not null)
        {
            var card = await ModelCard.BuildAsync(registry, context.Service<RunStore>(), context.Service<AuditLog>(), name, selected, context.Service<DatasetStore>(), context.Cancel).ConfigureAwait(false);
            await CardAsync(context, body, card).ConfigureAwait(false);
        }

        return new DashboardPage($"Model {name}", "models", body.ToString());
    }

    private static async Task CardAsync(DashboardContext context, Html body, ModelCard card)
    {
        body.Tag("h2", $"Model card: {card.Name} v{card.Version}", "id=\"card\"");
        body.Raw("<dl class=\"facts\">").Tag("dt", "purpose").Tag("dd", card.Purpose ?? "–").Tag("dt", "owner").Tag("dd", card.Owner ?? "–")
            .Tag("dt", "stage").Raw($"<dd>{StageBadge(card.Stage)}</dd>").Tag("dt", "aliases").Tag("dd", card.Aliases.Count == 0 ? "–" : string.Join(", ", card.Aliases.Select(a => "@" + a)))
            .Tag("dt", "source").Tag("dd", card.Source).Tag("dt", "run").Raw(card.RunId is { } run ? $"<dd><a href=\"{Html.Attribute(DashboardRoutes.Run(run))}\">{Html.Encode(run)}</a></dd>" : "<dd>–</dd>")
            .Raw("</dl>");
        foreach (var (section, text) in card.Sections.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            body.Tag("h3", section).Tag("p", text);
        }

        body.Tag("h3", "Parameters");
        body.Table(["parameter", "value"], card.Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new[] { Html.Cell(p.Key), Html.Cell(p.Value) }), "params", "No training run is linked.");
        body.Tag("h3", "Metrics");
        body.Table(["metric", "value"], card.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new[] { Html.Cell(m.Key), Html.Cell(m.Value, "0.######") }), "metrics", "No training run is linked.");
        body.Tag("h3", "Training data");
        body.Table(["context", "dataset", "digest", "version", "profile"], card.TrainingData.Select(d => new[]
        {
            Html.Cell(d.Context), Html.Cell(d.Name), Html.Cell(d.Digest), Html.Cell(d.DatasetVersion ?? "–"), Html.Cell(d.Profile),
        }), "training-data", "No datasets were logged with the run.");

        body.Tag("h3", "Stage and alias history");
        body.Table(["time", "actor", "action", "details"], card.History.Select(h => new[] { Html.Cell(Html.Time(h.At)), Html.Cell(h.Actor), Html.Cell(h.Action), Html.Cell(h.Details) }),
            "history", "No stage or alias changes recorded.");

        body.Tag("h3", "Lineage");
        var nodes = card.Lineage.Nodes.Select(n => new GraphNode(n.Id, n.Label, n.Kind switch { "dataset_version" => "dataset", "model_version" => "version", _ => n.Kind },
            n.Kind switch { "dataset_version" => 0, "run" => 1, "model_version" => 2, _ => 3 })).ToList();
        var edges = card.Lineage.Edges.Select(e => (e.From, e.To)).ToList();
        var versionNode = card.Lineage.Nodes.First(n => n.Kind == "model_version").Id;
        foreach (var endpoint in await EndpointsServingAsync(context, card).ConfigureAwait(false))
        {
            nodes.Add(new GraphNode("endpoint:" + endpoint, endpoint, "endpoint", 3));
            edges.Add((versionNode, "endpoint:" + endpoint));
        }

        body.Raw(SvgChart.Graph("lineage", "Lineage: dataset versions → training run → model version → endpoints", nodes, edges));
    }

    /// <summary>Endpoints with a variant or shadow on this version, by number or by one of its aliases.</summary>
    private static async Task<List<string>> EndpointsServingAsync(DashboardContext context, ModelCard card)
    {
        bool Serves(string? model)
        {
            if (model is null)
            {
                return false;
            }

            try
            {
                var reference = ModelReference.Parse(model, "variant");
                return reference.Name == card.Name && ((reference.Version is { } v && v.ToString(CultureInfo.InvariantCulture) == card.Version) || (reference.Alias is { } a && card.Aliases.Contains(a)));
            }
            catch (TrackingException)
            {
                return false;
            }
        }

        return [.. (await context.Service<EndpointStore>().ListAsync(context.Cancel).ConfigureAwait(false))
            .Where(e => (e.Spec.Variants ?? []).Any(v => Serves(v.Model)) || (e.Spec.Shadows ?? []).Any(s => Serves(s.Model)))
            .Select(e => e.Spec.Name)];
    }

    private static string StageBadge(string stage) => Html.Badge(stage, stage switch
    {
        ModelStages.Production => "ok",
        ModelStages.Staging => "info",
        ModelStages.Archived => "warn",
        _ => "info",
    });
}
