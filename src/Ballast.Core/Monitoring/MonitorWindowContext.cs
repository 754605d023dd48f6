namespace Ballast.Monitoring;

/// <summary>
/// What a window hook (<see cref="IWindowQualityCheck"/>, <see cref="IWindowEstimator"/>) sees: the monitor, the
/// window's rows [<see cref="Start"/>, <see cref="End"/>) (inputs, outputs, feedback), the reference, and the columns
/// compared for drift. <see cref="InputsParquet"/> writes every input column of the window to a Parquet file once.
/// </summary>
public sealed class MonitorWindowContext(MonitorSpec spec, WindowTable window, ReferenceTable reference, IReadOnlyList<string> columns, long start, long end, string scratch)
{
    private string? _inputs;

    public MonitorSpec Spec { get; } = spec;

    public WindowTable Window { get; } = window;

    public ReferenceTable Reference { get; } = reference;

    /// <summary>The input columns compared with the reference (the drift report's columns).</summary>
    public IReadOnlyList<string> Columns { get; } = columns;

    public long Start { get; } = start;

    public long End { get; } = end;

    /// <summary>The minimum rows for a verdict (the spec's <c>min_rows</c>).</summary>
    public long MinRows => Spec.MinRows ?? MonitorValidation.DefaultMinRows;

    public string InputsParquet()
    {
        if (_inputs is null)
        {
            var path = Path.Combine(scratch, "inputs.parquet");
            Window.WriteParquet(path, Window.Inputs.Select(column => (column.Key, column.Value)).ToList());
            _inputs = path;
        }

        return _inputs;
    }
}
