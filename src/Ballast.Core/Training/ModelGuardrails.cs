using Ballast.Runtime;

namespace Ballast.Training;

/// <summary>
/// Measures what the gate's guardrails bound: the model's size in bytes, and its latency scoring a batch of sample
/// rows through Ballast's ML.NET serving runtime (after one warm-up run, the median of <c>repetitions</c> runs, timed
/// with the injected <see cref="TimeProvider"/>'s timestamps).
/// </summary>
public static class ModelGuardrails
{
    public const int DefaultBatchRows = 100;
    public const int DefaultRepetitions = 5;

    public static GuardrailMeasurement Measure(string modelZip, string sampleFile, TimeProvider time, int batchRows = DefaultBatchRows, int repetitions = DefaultRepetitions)
    {
        ArgumentNullException.ThrowIfNull(modelZip);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        using var runtime = MlNetModelRuntime.Load(modelZip);
        var inputs = ServingInputs.Read(sampleFile, runtime.Signature, batchRows);
        runtime.Infer(inputs);
        var elapsed = new double[repetitions];
        for (var i = 0; i < repetitions; i++)
        {
            var started = time.GetTimestamp();
            runtime.Infer(inputs);
            elapsed[i] = time.GetElapsedTime(started).TotalMilliseconds;
        }

        Array.Sort(elapsed);
        var median = repetitions % 2 == 1 ? elapsed[repetitions / 2] : (elapsed[repetitions / 2 - 1] + elapsed[repetitions / 2]) / 2;
        var rows = inputs.Count > 0 ? (int)inputs[0].Shape[0] : 0;
        return new GuardrailMeasurement(median, new FileInfo(modelZip).Length, rows);
    }
}
