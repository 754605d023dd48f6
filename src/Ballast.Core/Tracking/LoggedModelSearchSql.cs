using Ballast.Metadata;
using Ballast.Tracking.Search;
using Dapper;

namespace Ballast.Tracking;

/// <summary>
/// Turns a logged-model search into SQL over <c>logged_models m</c>: attribute clauses test columns, tag and param
/// clauses their tables through <c>EXISTS</c> on their primary keys. Ordering is by attributes (missing values last),
/// then, as MLflow, newest first unless the caller ordered by creation time, then by id so pages never overlap.
/// </summary>
internal sealed class LoggedModelSearchSql(DatabaseEngine engine, string filter)
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

    private readonly DynamicParameters _parameters = new();
    private int _next;

    public DynamicParameters Parameters => _parameters;

    public string Add(object? value)
    {
        var name = $"s{_next++}";
        _parameters.Add(name, value);
        return name;
    }

    public string Where(IReadOnlyList<SearchClause> clauses)
    {
        var parts = clauses.Select(Clause).ToList();
        return parts.Count == 0 ? "" : " AND " + string.Join(" AND ", parts);
    }

    public static string OrderBy(IReadOnlyList<LoggedModelOrder>? orderBy)
    {
        var parts = new List<string>();
        var byCreation = false;
        foreach (var order in orderBy ?? [])
        {
            if (!Attributes.TryGetValue(order.FieldName, out var attribute))
            {
                throw TrackingException.Invalid(order.FieldName.StartsWith("metrics.", System.StringComparison.Ordinal)
                    ? $"Invalid order by field name: {order.FieldName}. This server does not keep metrics on logged models; order by {AttributeNames}."
                    : $"Invalid order by field name: {order.FieldName}. Order by {AttributeNames}.");
            }

            byCreation |= attribute.Column == "m.creation_timestamp";
            parts.Add($"{attribute.Column} {(order.Ascending ? "ASC" : "DESC")} NULLS LAST");
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
                    if (clause.Comparator is not ("=" or "!=" or "<" or "<=" or ">" or ">=") || clause.Value.Number is not { } number)
                    {
                        throw TrackingException.Invalid($"Invalid filter '{filter}': '{clause.Key}' is compared as a number; use =, !=, <, <=, > or >= with a number.");
                    }

                    return $"{attribute.Column} {clause.Comparator} @{Add((long)number)}";
                }

                // A status may be given by its number, as MLflow stores it.
                if (clause.Key == "status" && clause.Value.Number is { } code && LoggedModelStatuses.Parse(((long)code).ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } status)
                {
                    clause = clause with { Value = SearchValue.OfText(status) };
                }

                return StringComparison(clause, attribute.Column);
            case SearchKeyKind.Attribute:
                throw TrackingException.Invalid($"Invalid filter '{filter}': '{clause.Key}' is not a logged model attribute; use one of {AttributeNames}.");
            case SearchKeyKind.Tag:
                return $"EXISTS (SELECT 1 FROM logged_model_tags x WHERE x.model_id = m.model_id AND x.key = @{Add(clause.Key)} AND {StringComparison(clause, "x.value")})";
            case SearchKeyKind.Param:
                return $"EXISTS (SELECT 1 FROM logged_model_params x WHERE x.model_id = m.model_id AND x.key = @{Add(clause.Key)} AND {StringComparison(clause, "x.value")})";
            case SearchKeyKind.Metric:
                throw TrackingException.Invalid($"Invalid filter '{filter}': this server does not keep metrics on logged models (they stay on the run); filter by attributes, tags or params.");
            default:
                throw TrackingException.Invalid($"Invalid filter '{filter}': logged models are searched by attributes, tags and params.");
        }
    }

    private string StringComparison(SearchClause clause, string column)
    {
        switch (clause.Comparator)
        {
            case "=" or "!=" or "LIKE" when clause.Value.Text is { } text:
                return $"{column} {clause.Comparator} @{Add(text)}";
            case "ILIKE" when clause.Value.Text is { } text:
                var parameter = Add(text);
                return engine == DatabaseEngine.Postgres ? $"{column} ILIKE @{parameter}" : $"LOWER({column}) LIKE LOWER(@{parameter})";
            case "IN" or "NOT IN" when clause.Value.List is { } list:
                return $"{column} {clause.Comparator} ({string.Join(", ", list.Select(item => "@" + Add(item)))})";
            default:
                throw TrackingException.Invalid(
                    $"Invalid filter '{filter}': '{clause.Key}' is compared as a string; use =, !=, LIKE, ILIKE with a quoted string, or IN / NOT IN with a list.");
        }
    }
}
