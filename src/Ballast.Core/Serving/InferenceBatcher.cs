using Ballast.Runtime;

namespace Ballast.Serving;

/// <summary>
/// An endpoint's micro-batching settings: up to <see cref="MaxBatchSize"/> rows from concurrent requests run as one
/// call of a variant's model. With <see cref="MaxDelayMs"/> 0 (the default) a batch waits for nothing: it takes the
/// requests that arrived while the server was busy, so a lone request runs at once. A positive delay holds a batch's
/// first request up to that long for others to join.
/// </summary>
public sealed record BatchingSpec(int? MaxBatchSize = null, double? MaxDelayMs = null)
{
    public const int DefaultMaxBatchSize = 32;
    public const int MaxMaxBatchSize = 4096;
    public const double MaxMaxDelayMs = 1000;

    internal void Validate(List<string> problems, string policy)
    {
        if (policy == EndpointValidation.EnsemblePolicy)
        {
            problems.Add("batching: not available with policy 'ensemble' (its members are called once per request)");
        }

        if (MaxBatchSize is < 2 or > MaxMaxBatchSize)
        {
            problems.Add($"batching: max_batch_size {MaxBatchSize} must be between 2 and {MaxMaxBatchSize} (rows)");
        }

        if (MaxDelayMs is { } delay && (!double.IsFinite(delay) || delay < 0 || delay > MaxMaxDelayMs))
        {
            problems.Add($"batching: max_delay_ms {delay} must be between 0 and {MaxMaxDelayMs}");
        }
    }
}

/// <summary>
/// Adaptive micro-batching for one variant's in-process model. Each request is checked against the model's signature
/// on its own thread (a bad request fails alone, at once), then joins the open batch. The batch runs when a thread
/// pool thread reaches it (every request parsed in the meantime has joined), when its delay is over, or at once on the
/// request that fills it. Without a delay, a request that arrives while the thread pool has nothing else queued runs
/// at once on its own thread. Its requests' rows are stacked along the batch dimension into one call of the model, and
/// each request gets its own rows of every output back (then its own choice of outputs). When the model refuses a
/// batch, or an output does not come back with one row per input row, the requests run again one by one, so each gets
/// its own answer or error. Results are handed back on the thread that ran the batch.
/// </summary>
public sealed class InferenceBatcher : IThreadPoolWorkItem
{
    private readonly IModelRuntime _runtime;
    private readonly int _maxRows;
    private readonly TimeSpan _delay;
    private readonly ITimer? _timer;
    private readonly Action<int>? _observe;
    private readonly Lock _lock = new();
    private volatile List<Pending>? _open;
    private int _openRows;

    public InferenceBatcher(IModelRuntime runtime, BatchingSpec spec, TimeProvider? time = null, Action<int>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(spec);
        _runtime = runtime;
        _maxRows = spec.MaxBatchSize ?? BatchingSpec.DefaultMaxBatchSize;
        _delay = TimeSpan.FromMilliseconds(spec.MaxDelayMs ?? 0);
        _observe = observe;
        if (_delay > TimeSpan.Zero)
        {
            _timer = (time ?? TimeProvider.System).CreateTimer(static state => ((InferenceBatcher)state!).RunOpen(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Whether a model's requests can be stacked: every input and output has a variable first (batch) dimension, so
    /// rows are independent and an output has one row per input row.
    /// </summary>
    public static bool CanBatch(ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        return signature.Inputs.Count > 0 && signature.Inputs.Concat(signature.Outputs).All(spec => spec.Shape.Count > 0 && spec.Shape[0] < 0);
    }

    public ValueTask<IReadOnlyList<Tensor>> InferAsync(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rows = Rows(inputs);

        // Alone and at once: a request of a batch's rows or more, one whose inputs disagree on their rows, and any at
        // light load (no batch open, at most one other work item waiting for a pool thread, typically this connection's
        // own I/O), when no request could join and the hop through the thread pool would only add latency (~20 us at one
        // connection, bench/results/serving.md).
        if (rows < 1 || rows >= _maxRows || (_timer is null && _open is null && ThreadPool.PendingWorkItemCount <= 1))
        {
            var answer = _runtime.Infer(inputs, outputs);
            if (rows > 0)
            {
                _observe?.Invoke(rows);
            }

            return ValueTask.FromResult(answer);
        }

        SignatureCheck.Inputs(_runtime.Signature, inputs);
        SignatureCheck.Outputs(_runtime.Signature, outputs);
        var pending = new Pending(inputs, outputs, rows);
        List<Pending>? full = null;
        bool opened;
        lock (_lock)
        {
            opened = _open is null;
            (_open ??= []).Add(pending);
            _openRows += rows;
            if (_openRows >= _maxRows)
            {
                (full, _open, _openRows) = (_open, null, 0);
            }
        }

        if (full is not null)
        {
            Run(full);
        }
        else if (opened)
        {
            if (_timer is { } timer)
            {
                timer.Change(_delay, Timeout.InfiniteTimeSpan);
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }

        return new ValueTask<IReadOnlyList<Tensor>>(pending.Task);
    }

    void IThreadPoolWorkItem.Execute() => RunOpen();

    private void RunOpen()
    {
        List<Pending>? batch;
        lock (_lock)
        {
            (batch, _open, _openRows) = (_open, null, 0);
        }

        if (batch is not null)
        {
            Run(batch);
        }
    }

    private void Run(List<Pending> batch)
    {
        var rows = batch.Sum(pending => pending.Rows);
        if (batch.Count == 1 || Stack(batch, rows) is not { } stacked)
        {
            RunEach(batch);
            return;
        }

        List<IReadOnlyList<Tensor>> answers;
        try
        {
            answers = Split(batch, rows, _runtime.Infer(stacked));
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            RunEach(batch);
            return;
        }

        _observe?.Invoke(rows);

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].TrySetResult(answers[i]);
        }
    }

    private void RunEach(List<Pending> batch)
    {
        foreach (var pending in batch)
        {
            try
            {
                var answer = _runtime.Infer(pending.Inputs, pending.Outputs);
                _observe?.Invoke(pending.Rows);
                pending.TrySetResult(answer);
            }
            catch (Exception exception)
            {
                pending.TrySetException(exception);
            }
        }
    }

    /// <summary>The requests' inputs stacked by name, or null when their non-batch dimensions differ.</summary>
    private static List<Tensor>? Stack(List<Pending> batch, int rows)
    {
        var first = batch[0].Inputs;
        var stacked = new List<Tensor>(first.Count);
        foreach (var input in first)
        {
            var parts = new Tensor[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                var part = Named(batch[i].Inputs, input.Name);
                if (part is null || !part.Shape.AsSpan(1).SequenceEqual(input.Shape.AsSpan(1)))
                {
                    return null;
                }

                parts[i] = part;
            }

            var shape = (long[])input.Shape.Clone();
            shape[0] = rows;
            var data = Array.CreateInstance(input.Data.GetType().GetElementType()!, checked((int)Tensor.ElementCount(shape)));
            var offset = 0;
            foreach (var part in parts)
            {
                Array.Copy(part.Data, 0, data, offset, part.Data.Length);
                offset += part.Data.Length;
            }

            stacked.Add(input with { Shape = shape, Data = data });
        }

        return stacked;
    }

    /// <summary>Each request's rows of every output, then its choice of outputs in its order.</summary>
    private static List<IReadOnlyList<Tensor>> Split(List<Pending> batch, int rows, IReadOnlyList<Tensor> outputs)
    {
        if (outputs.Any(output => output.Shape.Length == 0 || output.Shape[0] != rows))
        {
            throw new InvalidOperationException("an output does not have one row per input row");
        }

        var answers = new List<IReadOnlyList<Tensor>>(batch.Count);
        var row = 0L;
        foreach (var pending in batch)
        {
            var mine = new List<Tensor>(outputs.Count);
            foreach (var output in outputs)
            {
                var shape = (long[])output.Shape.Clone();
                shape[0] = pending.Rows;
                mine.Add(output with { Shape = shape, Data = output.RowValues(row, pending.Rows) });
            }

            answers.Add(pending.Outputs is { Count: > 0 } chosen ? chosen.Select(name => Named(mine, name)!).ToList() : mine);
            row += pending.Rows;
        }

        return answers;
    }

    private static Tensor? Named(IReadOnlyList<Tensor> tensors, string name)
    {
        foreach (var tensor in tensors)
        {
            if (tensor.Name == name)
            {
                return tensor;
            }
        }

        return null;
    }

    /// <summary>The request's rows (every input's first dimension), or -1 when its inputs disagree.</summary>
    private static int Rows(IReadOnlyList<Tensor> inputs)
    {
        var rows = -1L;
        foreach (var input in inputs)
        {
            if (input.Shape.Length == 0 || (rows >= 0 && input.Shape[0] != rows))
            {
                return -1;
            }

            rows = input.Shape[0];
        }

        return rows > int.MaxValue ? -1 : (int)rows;
    }

    // Completed synchronously by the batch's thread: the request's continuation (its response) runs there.
    private sealed class Pending(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs, int rows) : TaskCompletionSource<IReadOnlyList<Tensor>>
    {
        public IReadOnlyList<Tensor> Inputs { get; } = inputs;

        public IReadOnlyCollection<string>? Outputs { get; } = outputs;

        public int Rows { get; } = rows;
    }
}
