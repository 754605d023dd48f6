using Ballast.Metadata;
using Ballast.Tracking.Search;
using Dapper;

namespace Ballast.Tracking;

/// <summary>
/// What the SQL of an MLflow filter search (runs, logged models) shares: the query's parameters, and how a clause
/// compares a value as a string (=, !=, LIKE, ILIKE, IN, NOT IN) or as a number, with the filter named in every error.
/// </summary>
internal abstract class SearchSql(DatabaseEngine engine, string filter)
{
    private int _next;

    public DynamicParameters Parameters { get; } = new();

    protected string Filter => filter;

    /// <summary>Adds a parameter and returns its name (without the <c>@</c>).</summary>
    public string Add(object? value)
    {
        var name = $"s{_next++}";
        Parameters.Add(name, value);
        return name;
    }

    protected string StringComparison(SearchClause clause, string column)
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

    /// <summary>The number a numeric clause compares with; <paramref name="name"/> is the key as the filter wrote it.</summary>
    protected double Number(SearchClause clause, string? name = null) =>
        clause.Comparator is "=" or "!=" or "<" or "<=" or ">" or ">=" && clause.Value.Number is { } number
            ? number
            : throw TrackingException.Invalid($"Invalid filter '{filter}': '{name ?? clause.Key}' is compared as a number; use =, !=, <, <=, > or >= with a number.");
}
