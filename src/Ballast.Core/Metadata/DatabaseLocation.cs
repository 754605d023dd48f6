using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ballast.Metadata;

/// <summary>
/// Where the metadata lives: <c>sqlite:PATH</c> or a <c>postgres://user:pass@host:port/db?sslmode=…</c> URI
/// (<c>postgresql://</c> too). <see cref="Display"/> never contains the password.
/// </summary>
public sealed record DatabaseLocation(DatabaseEngine Engine, string ConnectionString, string Display)
{
    public static DatabaseLocation Parse(string value) =>
        TryParse(value, out var location, out var error) ? location! : throw new ArgumentException(error, nameof(value));

    public static bool TryParse(string value, out DatabaseLocation? location, out string? error)
    {
        location = null;
        error = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "is empty; give sqlite:PATH or postgres://user:pass@host:port/db";
            return false;
        }

        if (value.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = value["sqlite:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..];
            }

            if (path.Length == 0)
            {
                error = "'sqlite:' needs a file path, e.g. sqlite:./ballast-data/ballast.db";
                return false;
            }

            var full = Path.GetFullPath(path);
            var builder = new SqliteConnectionStringBuilder
            {
                DataSource = full,
                ForeignKeys = true,
                DefaultTimeout = 30,
                Pooling = true,
                Mode = SqliteOpenMode.ReadWriteCreate,
            };
            location = new DatabaseLocation(DatabaseEngine.Sqlite, builder.ConnectionString, "sqlite:" + full);
            return true;
        }

        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return TryParsePostgres(value, out location, out error);
        }

        error = $"'{Redact(value)}' is not a database URI; give sqlite:PATH or postgres://user:pass@host:port/db";
        return false;
    }

    private static bool TryParsePostgres(string value, out DatabaseLocation? location, out string? error)
    {
        location = null;
        error = null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            error = $"'{Redact(value)}' is not a valid postgres:// URI (expected postgres://user:pass@host:port/db)";
            return false;
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0)
        {
            error = $"'{Redact(value)}' names no database; add /DBNAME after the host";
            return false;
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = database,
            // Controllers and serving replicas share the pool; fail fast when the server is gone.
            Timeout = 10,
            CommandTimeout = 60,
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var setting = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            try
            {
                builder[key switch
                {
                    "sslmode" => "SSL Mode",
                    "application_name" => "Application Name",
                    "connect_timeout" => "Timeout",
                    _ => key,
                }] = setting;
            }
            catch (ArgumentException)
            {
                error = $"'{Redact(value)}' has an unknown option '{key}'";
                return false;
            }
        }

        var display = $"postgres://{(builder.Username is { } user ? user + "@" : "")}{builder.Host}:{builder.Port}/{builder.Database}";
        location = new DatabaseLocation(DatabaseEngine.Postgres, builder.ConnectionString, display);
        return true;
    }

    /// <summary>Hides the password of a URI for messages and logs.</summary>
    public static string Redact(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme)
        {
            return value;
        }

        var colon = value.IndexOf(':', scheme + 3);
        return colon > 0 && colon < at ? value[..(colon + 1)] + "***" + value[at..] : value;
    }

    public override string ToString() => Display;
}
