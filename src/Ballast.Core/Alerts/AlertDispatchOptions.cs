namespace Ballast.Alerts;

/// <summary>How the dispatcher retries: attempt n waits <c>min(BaseDelay · 2^(n-1), MaxDelay)</c> after a failure, up to <see cref="MaxAttempts"/>.</summary>
public sealed record AlertDispatchOptions
{
    /// <summary>5 s, 10 s, 20 s … capped at 10 min: 12 attempts span about an hour, so a receiver down that long still gets it.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(10);

    public int MaxAttempts { get; init; } = 12;

    /// <summary>Attempts in flight at once (different rules or targets; one rule's notifications to a target go in order).</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>How long a taken notification is held by its dispatcher: longer than any attempt (the webhook timeout is 10 s).</summary>
    public TimeSpan ClaimFor { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Notifications taken per pass.</summary>
    public int BatchSize { get; init; } = 50;

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan Backoff(int attempt)
    {
        var factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        var delay = BaseDelay * factor;
        return delay > MaxDelay ? MaxDelay : delay;
    }
}
