using System.Text.Json.Serialization;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// Data-quality expectations, column by column (the Great Expectations idea, in Ballast's words):
/// <c>{"columns": {"age": {"type": "integer", "required": true, "min": 0, "max": 120}, "state": {"allowed": ["CA", "NY"]}}}</c>.
/// Read with <see cref="ExpectationSuiteReader"/>, which records every problem (unknown field, wrong type) in
/// <see cref="Problems"/> instead of dropping it; <see cref="Validate"/> lists them with the semantic ones. See docs/quality.md.
/// </summary>
[JsonConverter(typeof(ExpectationSuiteJsonConverter))]
public sealed record ExpectationSuite(IReadOnlyDictionary<string, ColumnExpectations> Columns)
{
    /// <summary>What the reader could not take as written, each prefixed with the field's path (<c>columns.age.max</c>).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>Every problem at once, each naming its field; empty when the suite can be applied.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Problems);
        if (Columns.Count == 0 && Problems.Count == 0)
        {
            problems.Add("columns: name at least one column and its expectations");
        }

        foreach (var (name, column) in Columns)
        {
            var path = $"columns.{name}";
            column.Validate(path, problems, misread: Problems.Any(problem => problem.StartsWith(path + ".", StringComparison.Ordinal)));
        }

        return problems;
    }

    /// <summary>The suite's expectations in a stable order: columns as written, kinds in <see cref="ExpectationKinds.All"/> order.</summary>
    public IEnumerable<(string Column, string Expectation)> Expectations() =>
        Columns.SelectMany(column => column.Value.Kinds().Select(kind => (column.Key, kind)));
}

/// <summary>
/// One column's expectations; a null field is not checked. <see cref="Min"/> and <see cref="Max"/> are inclusive;
/// <see cref="Allowed"/> values are kept as text (numbers compare as numbers); <see cref="Regex"/> must match somewhere in
/// the value (anchor it with ^ and $ for the whole value). Missing values (null, NaN) fail only <see cref="Required"/>
/// and count towards <see cref="MaxNullRate"/>; the other expectations look at present values only.
/// </summary>
public sealed record ColumnExpectations(
    string? Type = null,
    bool? Required = null,
    double? Min = null,
    double? Max = null,
    IReadOnlyList<string>? Allowed = null,
    double? MaxNullRate = null,
    bool? Unique = null,
    string? Regex = null)
{
    public IEnumerable<string> Kinds()
    {
        if (Type is not null)
        {
            yield return ExpectationKinds.Type;
        }

        if (Required == true)
        {
            yield return ExpectationKinds.Required;
        }

        if (Min is not null)
        {
            yield return ExpectationKinds.Min;
        }

        if (Max is not null)
        {
            yield return ExpectationKinds.Max;
        }

        if (Allowed is not null)
        {
            yield return ExpectationKinds.Allowed;
        }

        if (MaxNullRate is not null)
        {
            yield return ExpectationKinds.MaxNullRate;
        }

        if (Unique == true)
        {
            yield return ExpectationKinds.Unique;
        }

        if (Regex is not null)
        {
            yield return ExpectationKinds.Regex;
        }
    }

    internal void Validate(string path, List<string> problems, bool misread = false)
    {
        if (Type is not null && !ColumnTypes.All.Contains(Type))
        {
            problems.Add($"{path}.type: '{Type}' is not one of {string.Join(", ", ColumnTypes.All)}");
        }

        foreach (var (value, field) in new[] { (Min, "min"), (Max, "max") })
        {
            if (value is { } number && !double.IsFinite(number))
            {
                problems.Add($"{path}.{field}: must be a finite number");
            }
        }

        if (Min is { } min && Max is { } max && min > max)
        {
            problems.Add($"{path}: min {min} is greater than max {max}");
        }

        if ((Min is not null || Max is not null) && Type is ColumnTypes.String or ColumnTypes.Boolean)
        {
            problems.Add($"{path}: min and max compare numbers, but the type is {Type}");
        }

        if (MaxNullRate is { } rate && !(rate >= 0 && rate <= 1))
        {
            problems.Add($"{path}.max_null_rate: {rate} must be between 0 and 1");
        }

        if (Required == true && MaxNullRate is not null)
        {
            problems.Add($"{path}: required already allows no missing values; leave out max_null_rate");
        }

        if (Allowed is { Count: 0 })
        {
            problems.Add($"{path}.allowed: list at least one value");
        }

        if (Regex is not null)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(Regex, System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException exception)
            {
                problems.Add($"{path}.regex: '{Regex}' is not a regular expression: {exception.Message}");
            }
        }

        if (!misread && !Kinds().Any() && Required is null && Unique is null)
        {
            problems.Add($"{path}: no expectation (give type, required, min, max, allowed, max_null_rate, unique or regex)");
        }
    }
}

/// <summary>The expectation kinds as they are named in suites, results, headers and metric labels.</summary>
public static class ExpectationKinds
{
    /// <summary>Reported (batch only) when the data has no column the suite names; its other expectations are not checked.</summary>
    public const string Exists = "exists";
    public const string Type = "type";
    public const string Required = "required";
    public const string Min = "min";
    public const string Max = "max";
    public const string Allowed = "allowed";
    public const string MaxNullRate = "max_null_rate";
    public const string Unique = "unique";
    public const string Regex = "regex";

    public static IReadOnlyList<string> All { get; } = [Type, Required, Min, Max, Allowed, MaxNullRate, Unique, Regex];

    /// <summary>Kinds that need more than one row; serving checks each row alone and skips them.</summary>
    public static bool IsBatchOnly(string kind) => kind is MaxNullRate or Unique;
}

/// <summary>Value types: a value has the type when it can be read as one (text "42" is an integer); string wants text.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are the suite format's own type names.")]
public static class ColumnTypes
{
    public const string Integer = "integer";
    public const string Number = "number";
    public const string String = "string";
    public const string Boolean = "boolean";

    public static IReadOnlyList<string> All { get; } = [Integer, Number, String, Boolean];
}
