using System.CommandLine;
using Ballast.Configuration;

namespace Ballast.Cli.Commands;

/// <summary>Options shared by several commands; each falls back to its BALLAST_* environment variable.</summary>
internal static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print stack traces with errors.",
        Recursive = true,
    };

    public static Option<string> DataDir() => new("--data-dir")
    {
        Description = "Folder for the SQLite database and local artifacts [env: BALLAST_DATA_DIR].",
        DefaultValueFactory = _ => Environment("BALLAST_DATA_DIR") ?? BallastDefaults.DataDir,
    };

    public static Option<string?> Database() => new("--database")
    {
        Description = "Metadata database: sqlite:PATH or postgres://user:pass@host:port/db (default: SQLite in the data dir) [env: BALLAST_DATABASE].",
        DefaultValueFactory = _ => Environment("BALLAST_DATABASE"),
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print exact JSON instead of a table.",
    };

    public static string? Environment(string name) =>
        System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>
    /// A number from the environment: <paramref name="unset"/> when the variable is not set, -1 when it is not a number
    /// (so that the option's range check names it, never a silent default).
    /// </summary>
    public static double EnvironmentNumber(string name, double unset) =>
        Environment(name) is not { } value ? unset
            : double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : -1;

    /// <summary>A whole number from the environment: <paramref name="unset"/> when the variable is not set, -1 when it is not one.</summary>
    public static long EnvironmentInteger(string name, long unset) =>
        Environment(name) is not { } value ? unset
            : long.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : -1;

    public static bool EnvironmentFlag(string name) =>
        Environment(name) is { } value && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("yes", StringComparison.OrdinalIgnoreCase));
}
