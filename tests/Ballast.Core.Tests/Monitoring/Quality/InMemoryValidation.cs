using Ballast.Monitoring.Quality;
using DuckDB.NET.Data;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>Validates a suite against a query's rows in an in-memory DuckDB database, as <c>ballast validate</c> does a file.</summary>
internal static class InMemoryValidation
{
    public static ValidationResult Validate(string query, ExpectationSuite suite)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        return ExpectationValidator.Validate(connection, query, suite, TestContext.Current.CancellationToken);
    }
}
