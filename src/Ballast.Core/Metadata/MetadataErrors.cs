using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ballast.Metadata;

public static class MetadataErrors
{
    /// <summary>A unique constraint refused the write (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY).</summary>
    public static bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: "23505" } or SqliteException { SqliteExtendedErrorCode: 2067 or 1555 };
}
