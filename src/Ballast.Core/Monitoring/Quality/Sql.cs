using System.Globalization;

namespace Ballast.Monitoring.Quality;

/// <summary>SQL text for DuckDB: quoted names and literals, and the types the suites care about.</summary>
internal static class Sql
{
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture) + "::DOUBLE";

    public static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    public static bool IsInteger(string type) => type.ToUpperInvariant() is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT"
        or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "UHUGEINT";

    public static bool IsFloat(string type) => type.ToUpperInvariant() is "FLOAT" or "DOUBLE" or "REAL";

    public static bool IsNumeric(string type) => IsInteger(type) || IsFloat(type) || type.StartsWith("DECIMAL", StringComparison.OrdinalIgnoreCase);

    public static bool IsText(string type) => type.Equals("VARCHAR", StringComparison.OrdinalIgnoreCase);

    public static bool IsBoolean(string type) => type.Equals("BOOLEAN", StringComparison.OrdinalIgnoreCase);
}
