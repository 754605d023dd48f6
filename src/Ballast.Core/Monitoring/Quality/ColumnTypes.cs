namespace Ballast.Monitoring.Quality;

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
