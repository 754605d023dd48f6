namespace Ballast.Tests;

/// <summary>The server's <c>/metrics</c> as a test reads it.</summary>
internal static class MetricsExposition
{
    /// <summary>
    /// Reads <c>/metrics</c> until it contains <paramref name="line"/> (what a background loop publishes on its tick, or
    /// counts right after an answer), <paramref name="interval"/> apart, within <see cref="Eventually.Limit"/>; returns
    /// the last read, which the caller asserts on.
    /// </summary>
    public static Task<string> UntilAsync(HttpClient client, string line, TimeSpan interval) =>
        Eventually.UntilAsync(() => client.GetStringAsync("/metrics", TestContext.Current.CancellationToken), exposition => exposition.Contains(line, StringComparison.Ordinal), interval);
}
