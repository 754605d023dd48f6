using System.Reflection;

namespace Ballast;

public static class BallastVersion
{
    /// <summary>The product version (informational version without build metadata).</summary>
    public static string Current { get; } = Read();

    private static string Read()
    {
        var informational = typeof(BallastVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
