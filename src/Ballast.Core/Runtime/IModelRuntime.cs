namespace Ballast.Runtime;

/// <summary>
/// A loaded model version: loaded once, shared by every request (thread-safe), with the signature read from the
/// model itself. <see cref="Infer"/> checks the inputs against the signature before running the model.
/// </summary>
public interface IModelRuntime : IDisposable
{
    /// <summary><c>onnx</c>, <c>mlnet</c> or <c>remote</c>.</summary>
    string Flavor { get; }

    ModelSignature Signature { get; }

    /// <summary>
    /// Runs the model. Every declared input must be given once with its datatype and a shape that fits; the batch
    /// dimension may vary. <paramref name="outputs"/> selects outputs by name (all when null or empty).
    /// </summary>
    IReadOnlyList<Tensor> Infer(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null);

    /// <summary>The serving path's call: in-process models answer synchronously; a remote model over the network.</summary>
    ValueTask<IReadOnlyList<Tensor>> InferAsync(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Infer(inputs, outputs));
}
