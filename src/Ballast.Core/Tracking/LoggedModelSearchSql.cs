using Ballast.Metadata;
using Ballast.Tracking.Search;
using Dapper;

namespace Ballast.Tracking;

/// <summary>
/// Turns a logged-model search into SQL over <c>logged_models m</c>: attribute clauses test columns, tag, param and
/// metric clauses their tables through <c>EXISTS</c> on their primary keys. Ordering is by attributes or a metric's
/// latest value (missing values last), then, as MLflow, newest first unless the caller ordered by creation time, then
/// by id so pages never overlap.
/// </summary>
internal sealed class LoggedModelSearchSql(DatabaseEngine engine, string filter) : SearchSql(engine, filter)
{
    private static readonly Dictionary<string, (string Column, bool Numeric)> Attributes = new(StringComparer.Ordinal)
    {
        ["name"] = ("m.name", false),
        ["model_id"] = ("m.model_id", false),
        ["model_type"] = ("m.model_type", false),
        ["status"] = ("m.status", false),
        ["source_run_id"] = ("m.source_run_id", false),
        ["creation_timestamp"] = ("m.creation_timestamp", true),
        ["creation_time"] = ("m.creation_timestamp", true),
        ["last_updated_timestamp"] = ("m.last_updated_timestamp", true),
    };

    private string _datasets = "";

    /// <summary>
    /// The filter's clauses; metric clauses match a model with any linked value that compares, on one of
    /// <paramref name="datasets"/> when there are some (and with datasets but no metric clause, a model with any value
    /// on them), as MLflow's SqlAlchemyStore.
    /// </summary>
    public string Where(IReadOnlyList<SearchClause> clauses, IReadOnlyList<LoggedModelDataset> datasets)
    {
        if (datasets.Any(dataset => string.IsNullOrEmpty(dataset.DatasetName)))
        {
            throw TrackingException.Invalid("`dataset_name` in the `datasets` clause must be specified.");
        }

        _datasets = datasets.Count == 0 ? "" : " AND (" + string.Join(" OR ", datasets.Select(DatasetCondition)) + ")";
        var parts = clauses.Select(Clause).ToList();
        if (_datasets.Length > 0 && clauses.All(clause => clause.Kind != SearchKeyKind.Metric))
        {
            parts.Add($"EXISTS (SELECT 1 FROM logged_model_metrics x WHERE x.model_id = m.model_id{_datasets})");
        }

        return parts.Count == 0 ? "" : " AND " + string.Join(" AND ", parts);
    }

    /// <summary>
    /// Attributes (missing values last), or <c>metrics.&lt;key&gt;</c>: the model's latest value (greatest timestamp, then
    /// step), on the order's dataset when it names one, models without one last.
    /// </summary>
    public string OrderBy(IReadOnlyList<LoggedModelOrder>? orderBy)
    {
        var parts = new List<string>();
        var byCreation = false;
        foreach (var order in orderBy ?? [])
        {
            var direction = order.Ascending ? "ASC" : "DESC";
            if (order.FieldName.StartsWith("metrics.", System.StringComparison.Ordinal) && order.FieldName.Length > "metrics.".Length)
            {
                if (order.DatasetName is null && order.DatasetDigest is not null)
                {
                    throw TrackingException.Invalid($"Invalid order by clause for {order.FieldName}: dataset_digest may only be given with dataset_name.");
                }

                var dataset = order.DatasetName is null ? "" : " AND " + DatasetCondition(new LoggedModelDataset(order.DatasetName, order.DatasetDigest));
                parts.Add($"(SELECT x.value FROM logged_model_metrics x WHERE x.model_id = m.model_id AND x.key = @{Add(order.FieldName["metrics.".Length..])}{dataset} " +
                          $"ORDER BY x.timestamp DESC, x.step DESC LIMIT 1) {direction} NULLS LAST");
                continue;
            }

            if (order.DatasetName is not null || order.DatasetDigest is not null)
            {
                throw TrackingException.Invalid($"Invalid order by clause for {order.FieldName}: dataset_name and dataset_digest apply to metrics only.");
            }

            if (!Attributes.TryGetValue(order.FieldName, out var attribute))
            {
                throw TrackingException.Invalid($"Invalid order by field name: {order.FieldName}. Order by metrics.<key> or one of {AttributeNames}.");
            }

            byCreation |= attribute.Column == "m.creation_timestamp";
            parts.Add($"{attribute.Column} {direction} NULLS LAST");
        }

        if (!byCreation)
        {
            parts.Add("m.creation_timestamp DESC");
        }

        parts.Add("m.model_id ASC");
        return string.Join(", ", parts);
    }

    private static string AttributeNames => string.Join(", ", Attributes.Keys);

    private string Clause(SearchClause clause)
    {
        switch (clause.Kind)
        {
            case SearchKeyKind.Attribute when Attributes.TryGetValue(clause.Key, out var attribute):
                if (attribute.Numeric)
                {
                    return $"{attribute.Column} {clause.Comparator} @{Add((long)Number(clause))}";
                }

                // A status may be given by its number, as MLflow stores it.
                if (clause.Key == "status" && clause.Value.Number is { } code && LoggedModelStatuses.Parse(((long)code).ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } status)
                {
                    clause = clause with { Value = SearchValue.OfText(status) };
                }

                return StringComparison(clause, attribute.Column);
            case SearchKeyKind.Attribute:
                throw TrackingException.Invalid($"Invalid filter '{Filter}': '{clause.Key}' is not a logged model attribute; use one of {AttributeNames}.");
            case SearchKeyKind.Tag:
                return $"EXISTS (SELECT 1 FROM logged_model_tags x WHERE x.model_id = m.model_id AND x.key = @{Add(clause.Key)} AND {StringComparison(clause, "x.value")})";
            case SearchKeyKind.Param:
                return $"EXISTS (SELECT 1 FROM logged_model_params x WHERE x.model_id = m.model_id AND x.key = @{Add(clause.Key)} AND {StringComparison(clause, "x.value")})";
            case SearchKeyKind.Metric:
                var value = Number(clause, $"metrics.{clause.Key}");
                return $"EXISTS (SELECT 1 FROM logged_model_metrics x WHERE x.model_id = m.model_id AND x.key = @{Add(clause.Key)} AND x.value {clause.Comparator} @{Add(value)}{_datasets})";
            default:
                throw TrackingException.Invalid($"Invalid filter '{Filter}': logged models are searched by attributes, tags, params and metrics.");
        }
    }

    private string DatasetCondition(LoggedModelDataset dataset) => dataset.DatasetDigest is { Length: > 0 } digest
        ? $"(x.dataset_name = @{Add(dataset.DatasetName)} AND x.dataset_digest = @{Add(digest)})"
        : $"x.dataset_name = @{Add(dataset.DatasetName)}";
}
