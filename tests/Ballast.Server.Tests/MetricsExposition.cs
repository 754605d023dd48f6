namespace Ballast.Tests;

/// <summary>The server's <c>/metrics</c> as a test reads it.</summary>
internal static class MetricsExposition
{
    /// <summary>
    /// Reads <c>/metrics</c> until it contains <paramref name="line"/> (what a background loop publishes on its tick, or
    /// counts right after an answer), at most 100 times <paramref name="interval"/> apart; returns the last read, which
    /// the caller asserts on.
    /// </summary>
    public static async Task<string> UntilAsync(HttpClient client, string line, TimeSpan interval)
    {
        var cancel = TestContext.Current.CancellationToken;
        var exposition = await client.GetStringAsync("/metrics", cancel);
        for (var attempt = 1; attempt < 100 && !exposition.Contains(line, StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(interval, cancel);
            exposition = await client.GetStringAsync("/metrics", cancel);
        }

        return exposition;
    }
}
