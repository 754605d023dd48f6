namespace Ballast.Metadata;

public enum DatabaseEngine
{
    Sqlite,
    Postgres,
}
