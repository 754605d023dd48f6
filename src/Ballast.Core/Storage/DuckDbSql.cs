using System.Data.Common;
using System.Globalization;
using DuckDB.NET.Data;

namespace Ballast.Storage;

/// <summary>
/// What every DuckDB reader in Ballast needs (datasets, drift, quality, training files, the prediction log, the feature
/// store): SQL text (quoted names, literals, numbers), running a statement or a query, reading nullable numbers, and
/// the column types the callers care about.
/// </summary>
internal static class DuckDbSql
{
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture) + "::DOUBLE";

    public static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    public static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The column names of <paramref name="relation"/> (a table, a view or a reader expression).</summary>
    public static HashSet<string> Columns(DuckDBConnection connection, string relation)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT column_name FROM (DESCRIBE SELECT * FROM {relation})";
        using var reader = command.ExecuteReader();
        var columns = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    /// <summary>Runs a query and hands its reader to <paramref name="read"/>; the command outlives the reader.</summary>
    public static T Query<T>(DuckDBConnection connection, string sql, Func<DbDataReader, T> read)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        return read(reader);
    }

    /// <summary>A count or other integer; NULL (a count over nothing) reads as 0.</summary>
    public static long Int(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? 0 : Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public static double? Double(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToDouble(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public static bool IsInteger(string type) => type.ToUpperInvariant() is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT"
        or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "UHUGEINT";

    public static bool IsFloat(string type) => type.ToUpperInvariant() is "FLOAT" or "DOUBLE" or "REAL";

    /// <summary>A single-precision column (<c>FLOAT</c>, its aliases <c>REAL</c> and <c>FLOAT4</c>).</summary>
    public static bool IsSingle(string type) => type.ToUpperInvariant() is "FLOAT" or "REAL" or "FLOAT4";

    /// <summary>Dates or times: <c>DATE</c>, <c>TIMESTAMP</c> of any precision, <c>TIMESTAMP WITH TIME ZONE</c>.</summary>
    public static bool IsTime(string type) => IsInstant(type)
        || type.ToUpperInvariant() is "DATE" or "TIMESTAMP" or "TIMESTAMP_S" or "TIMESTAMP_MS" or "TIMESTAMP_NS" or "DATETIME";

    /// <summary>Instants: <c>TIMESTAMP WITH TIME ZONE</c> (<c>TIMESTAMPTZ</c>).</summary>
    public static bool IsInstant(string type) => type.ToUpperInvariant() is "TIMESTAMP WITH TIME ZONE" or "TIMESTAMPTZ";

    public static bool IsNumeric(string type) => IsInteger(type) || IsFloat(type) || type.StartsWith("DECIMAL", StringComparison.OrdinalIgnoreCase);

    public static bool IsText(string type) => type.Equals("VARCHAR", StringComparison.OrdinalIgnoreCase);

    public static bool IsBoolean(string type) => type.Equals("BOOLEAN", StringComparison.OrdinalIgnoreCase);
}
