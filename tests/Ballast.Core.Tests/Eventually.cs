using System.Diagnostics;

namespace Ballast.Tests;

/// <summary>Bounded waits for what happens in its own time: a background loop's tick, a delivery, a shadow call, another replica's refresh.</summary>
internal static class Eventually
{
    /// <summary>The longest a test waits: a bound for a loaded CI machine (two cores, both engines' tests at once), not a time the test expects.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Reads with <paramref name="read"/>, <paramref name="interval"/> apart, until <paramref name="done"/> holds or
    /// <see cref="Limit"/> has passed; returns the last read, which the caller asserts on (so a failure shows what was seen).
    /// </summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan interval)
    {
        var waited = Stopwatch.StartNew();
        var value = await read();
        while (!done(value) && waited.Elapsed < Limit)
        {
            await Task.Delay(interval, TestContext.Current.CancellationToken);
            value = await read();
        }

        return value;
    }

    /// <summary>Waits, <paramref name="interval"/> apart, until <paramref name="done"/> holds or <see cref="Limit"/> has passed; the caller asserts after.</summary>
    public static Task UntilAsync(Func<bool> done, TimeSpan interval) => UntilAsync(() => Task.FromResult(done()), static done => done, interval);
}
