using System.Globalization;
using System.Text;
using Ballast.Metadata;
using Ballast.Tracking.Search;
using Dapper;

namespace Ballast.Tracking;

/// <summary>
/// Turns a run search into one SQL query over <c>runs</c>: metric clauses test <c>latest_metrics</c>, param and tag
/// clauses test their tables through <c>EXISTS</c> on their primary keys, so nothing is loaded to be filtered in memory.
/// Ordering by a metric, param or tag joins that one key; runs without it sort last in either direction, as MLflow.
/// </summary>
internal sealed class RunSearchSql(DatabaseEngine engine, string filter) : SearchSql(engine, filter)
{
    private static readonly Dictionary<string, (string Column, bool Numeric)> Attributes = new(StringComparer.Ordinal)
    {
        ["run_id"] = ("r.run_uuid", false),
        ["run_uuid"] = ("r.run_uuid", false),
        ["run_name"] = ("r.run_name", false),
        ["status"] = ("r.status", false),
        ["user_id"] = ("r.user_id", false),
        ["artifact_uri"] = ("r.artifact_uri", false),
        ["start_time"] = ("r.start_time", true),
        ["created"] = ("r.start_time", true),
        ["Created"] = ("r.start_time", true),
        ["end_time"] = ("r.end_time", true),
    };

    private readonly StringBuilder _joins = new();
    private readonly StringBuilder _joinConditions = new();
    private readonly HashSet<string> _filteredMetrics = new(StringComparer.Ordinal);
    private string _from = "runs r";

    public string Where(IReadOnlyList<SearchClause> clauses)
    {
        foreach (var clause in clauses.Where(clause => clause.Kind == SearchKeyKind.Metric))
        {
            _filteredMetrics.Add(clause.Key);
        }

        var parts = clauses.Select(Clause).ToList();
        return parts.Count == 0 ? "" : " AND " + string.Join(" AND ", parts);
    }

    /// <summary>The FROM clause with the joins ordering needs; call after <see cref="Where"/> and <see cref="OrderBy"/>.</summary>
    public string From => _from + _joins;

    /// <summary>Conditions of the driving join, for the WHERE clause (empty unless ordering drives from a metric's index).</summary>
    public string JoinConditions => _joinConditions.ToString();

    public string OrderBy(IReadOnlyList<string>? orderBy)
    {
        var parts = new List<string>();
        foreach (var item in orderBy ?? [])
        {
            var (clauseText, direction) = SplitDirection(item);
            var key = SearchFilterParser.Parse(clauseText + " = 0");
            if (key.Count != 1)
            {
                throw TrackingException.Invalid($"Invalid order_by clause '{item}'.");
            }

            var (kind, name) = (key[0].Kind, key[0].Key);
            string column;
            if (kind == SearchKeyKind.Attribute)
            {
                column = Attributes.TryGetValue(name, out var attribute) ? attribute.Column
                    : throw TrackingException.Invalid($"Invalid order_by clause '{item}': '{name}' is not an attribute runs can be ordered by.");
            }
            else
            {
                var (table, valueColumn) = kind switch
                {
                    SearchKeyKind.Metric => ("latest_metrics", "value"),
                    SearchKeyKind.Param => ("run_params", "value"),
                    SearchKeyKind.Tag => ("run_tags", "value"),
                    _ => throw TrackingException.Invalid($"Invalid order_by clause '{item}': order by attributes, metrics, params or tags."),
                };
                var parameter = Add(name);
                var alias = $"o{parameter}"; // unique, as the parameter's name is
                column = $"{alias}.{valueColumn}";
                if (parts.Count == 0 && kind == SearchKeyKind.Metric && _filteredMetrics.Contains(name))
                {
                    // The filter already drops runs without this metric, so walk (key, value) in sort order from the
                    // metric's index and stop at the page's end instead of sorting every matching run. CROSS JOIN
                    // fixes that order on SQLite; PostgreSQL's planner chooses with its statistics.
                    _from = $"{table} {alias} CROSS JOIN runs r";
                    _joinConditions.Append(CultureInfo.InvariantCulture, $" AND {alias}.run_uuid = r.run_uuid AND {alias}.key = @{parameter}");
                    parts.Add($"{column} {direction}");
                    continue;
                }

                _joins.Append(CultureInfo.InvariantCulture, $" LEFT JOIN {table} {alias} ON {alias}.run_uuid = r.run_uuid AND {alias}.key = @{parameter}");
            }

            // Missing values last whichever the direction (MLflow sorts None/NaN last); NULLS LAST on both engines
            // (SQLite 3.30+) keeps the sort key a plain column, which an index can serve.
            parts.Add($"{column} {direction} NULLS LAST");
        }

        parts.Add("r.start_time DESC");
        parts.Add("r.run_uuid ASC");
        return string.Join(", ", parts);
    }

    private string Clause(SearchClause clause)
    {
        switch (clause.Kind)
        {
            case SearchKeyKind.Metric:
                return Exists("latest_metrics", clause.Key, $"x.value {clause.Comparator} @{Add(Number(clause))}");
            case SearchKeyKind.Param:
                return Exists("run_params", clause.Key, StringComparison(clause, "x.value"));
            case SearchKeyKind.Tag:
                return Exists("run_tags", clause.Key, StringComparison(clause, "x.value"));
            case SearchKeyKind.Attribute when Attributes.TryGetValue(clause.Key, out var attribute):
                if (attribute.Numeric)
                {
                    return $"{attribute.Column} {clause.Comparator} @{Add((long)Number(clause))}";
                }

                return StringComparison(clause, attribute.Column);
            case SearchKeyKind.Attribute:
                throw TrackingException.Invalid($"Invalid attribute key '{clause.Key}' in filter '{Filter}': use one of {string.Join(", ", Attributes.Keys.Where(key => key != "Created"))}.");
            case SearchKeyKind.Dataset when clause.Key is "name" or "digest":
                return $"EXISTS (SELECT 1 FROM run_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid = r.run_uuid AND {StringComparison(clause, "d." + clause.Key)})";
            case SearchKeyKind.Dataset when clause.Key == "context":
                return $"EXISTS (SELECT 1 FROM run_input_tags i WHERE i.run_uuid = r.run_uuid AND i.key = 'mlflow.data.context' AND {StringComparison(clause, "i.value")})";
            default:
                throw TrackingException.Invalid($"Invalid filter '{Filter}': datasets can be searched by name, digest and context.");
        }
    }

    private string Exists(string table, string key, string comparison) =>
        $"EXISTS (SELECT 1 FROM {table} x WHERE x.run_uuid = r.run_uuid AND x.key = @{Add(key)} AND {comparison})";

    private static (string Key, string Direction) SplitDirection(string item)
    {
        var trimmed = item.Trim();
        foreach (var direction in new[] { "ASC", "DESC" })
        {
            if (trimmed.EndsWith(" " + direction, System.StringComparison.OrdinalIgnoreCase))
            {
                return (trimmed[..^(direction.Length + 1)].TrimEnd(), direction);
            }
        }

        return (trimmed, "ASC");
    }
}
