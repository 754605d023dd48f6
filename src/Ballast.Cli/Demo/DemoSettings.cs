namespace Ballast.Cli.Demo;

/// <summary>How big and how slow the demo runs: <see cref="Fast"/> for tests (the loop in well under a minute), <see cref="Full"/> to watch.</summary>
internal sealed record DemoSettings(
    int TrainingRows,
    int WindowRows,
    int RowsBeforeShift,
    int MaxRowsUntilAlert,
    int RowsAfterRetraining,
    int Batch,
    int Concurrency,
    TimeSpan PauseBetweenBatches,
    TimeSpan PauseDuringCanary,
    int AlertWindows,
    string CanaryPause,
    string AnalysisInterval,
    int AnalysisMinRequests,
    int AnalysisMinFeedback,
    TimeSpan StageTimeout)
{
    public static DemoSettings Fast { get; } = new(
        TrainingRows: 2_000, WindowRows: 300, RowsBeforeShift: 300, MaxRowsUntilAlert: 3_000, RowsAfterRetraining: 600,
        Batch: 50, Concurrency: 4, PauseBetweenBatches: TimeSpan.Zero, PauseDuringCanary: TimeSpan.FromMilliseconds(300), AlertWindows: 1,
        CanaryPause: "1s", AnalysisInterval: "2s", AnalysisMinRequests: 10, AnalysisMinFeedback: 10, StageTimeout: TimeSpan.FromSeconds(90));

    public static DemoSettings Full { get; } = new(
        TrainingRows: 5_000, WindowRows: 500, RowsBeforeShift: 1_500, MaxRowsUntilAlert: 10_000, RowsAfterRetraining: 2_000,
        Batch: 50, Concurrency: 4, PauseBetweenBatches: TimeSpan.FromMilliseconds(250), PauseDuringCanary: TimeSpan.FromMilliseconds(500), AlertWindows: 2,
        CanaryPause: "5s", AnalysisInterval: "5s", AnalysisMinRequests: 30, AnalysisMinFeedback: 20, StageTimeout: TimeSpan.FromMinutes(5));
}
