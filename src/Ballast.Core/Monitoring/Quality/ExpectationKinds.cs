namespace Ballast.Monitoring.Quality;

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
