using Dapper;

namespace Ballast.Metadata;

/// <summary>
/// An <c>IN (@id0, @id1, …)</c> list with one named parameter per value: portable, where Dapper would hand Npgsql an
/// array that <c>IN</c> cannot take. For loading the data of a page of rows in one query per table.
/// </summary>
internal static class SqlInList
{
    public static (DynamicParameters Parameters, string List) Of(IReadOnlyList<string> values)
    {
        var parameters = new DynamicParameters();
        for (var i = 0; i < values.Count; i++)
        {
            parameters.Add($"id{i}", values[i]);
        }

        return (parameters, "(" + string.Join(", ", Enumerable.Range(0, values.Count).Select(i => $"@id{i}")) + ")");
    }
}
