using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ballast.Runtime;

/// <summary>
/// An ONNX model in ONNX Runtime: one <see cref="InferenceSession"/> shared by all requests (its Run is thread-safe).
/// Every V2 element type maps to its ONNX type, strings included. A sequence-of-maps output (scikit-learn's ZipMap,
/// class → probability) comes back as an FP32 [N, C] tensor whose <see cref="Tensor.Labels"/> are the classes.
/// </summary>
public sealed class OnnxModelRuntime : IModelRuntime
{
    private readonly InferenceSession _session;

    private OnnxModelRuntime(InferenceSession session)
    {
        _session = session;
        Signature = new ModelSignature(
            session.InputMetadata.Select(input => Spec(input.Key, input.Value)).ToList(),
            session.OutputMetadata.Select(output => Spec(output.Key, output.Value)).ToList());
    }

    public string Flavor => "onnx";

    public ModelSignature Signature { get; }

    /// <summary>Loads a model from a file; a file ONNX Runtime cannot load throws <see cref="ModelLoadException"/> with its reason.</summary>
    public static OnnxModelRuntime Load(string path, int intraOpThreads = 1)
    {
        var options = new SessionOptions { IntraOpNumThreads = intraOpThreads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        try
        {
            return new OnnxModelRuntime(new InferenceSession(path, options));
        }
        catch (OnnxRuntimeException exception)
        {
            throw new ModelLoadException("not a model ONNX Runtime can load: " + exception.Message.Split('\n')[0].Trim(), exception);
        }
        catch (NotSupportedException exception)
        {
            throw new ModelLoadException("the model uses a type Ballast cannot serve: " + exception.Message, exception);
        }
        finally
        {
            options.Dispose();
        }
    }

    public IReadOnlyList<Tensor> Infer(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null)
    {
        SignatureCheck.Inputs(Signature, inputs);
        SignatureCheck.Outputs(Signature, outputs);
        var names = outputs is { Count: > 0 } ? outputs.ToList() : Signature.Outputs.Select(output => output.Name).ToList();
        var values = new Dictionary<string, OrtValue>(inputs.Count, StringComparer.Ordinal);
        try
        {
            foreach (var input in inputs)
            {
                values[input.Name] = ToOrtValue(input);
            }

            using var runOptions = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> results;
            try
            {
                results = _session.Run(runOptions, values, names);
            }
            catch (OnnxRuntimeException exception) when (exception.Message.Contains("INVALID_ARGUMENT", StringComparison.Ordinal) || exception.Message.Contains("Invalid", StringComparison.OrdinalIgnoreCase))
            {
                throw new ModelInputException("the model refused the inputs: " + exception.Message.Split('\n')[0].Trim());
            }

            using (results)
            {
                return names.Select((name, i) => FromOrtValue(name, results[i])).ToList();
            }
        }
        finally
        {
            foreach (var value in values.Values)
            {
                value.Dispose();
            }
        }
    }

    public void Dispose() => _session.Dispose();

    private static TensorSpec Spec(string name, NodeMetadata metadata)
    {
        if (metadata.IsTensor)
        {
            return new TensorSpec(name, Datatype(metadata.ElementDataType), metadata.Dimensions.Select(dimension => (long)dimension).ToList());
        }

        // ZipMap: a sequence (one per row) of maps class -> probability, served as FP32 [-1, C].
        if (metadata.OnnxValueType == OnnxValueType.ONNX_TYPE_SEQUENCE && metadata.AsSequenceMetadata().ElementMeta.OnnxValueType == OnnxValueType.ONNX_TYPE_MAP)
        {
            return new TensorSpec(name, TensorDatatypes.Fp32, [-1, -1]);
        }

        throw new NotSupportedException($"output '{name}' is an ONNX {metadata.OnnxValueType}");
    }

    private static string Datatype(TensorElementType type) => type switch
    {
        TensorElementType.Bool => TensorDatatypes.Bool,
        TensorElementType.UInt8 => TensorDatatypes.Uint8,
        TensorElementType.UInt16 => TensorDatatypes.Uint16,
        TensorElementType.UInt32 => TensorDatatypes.Uint32,
        TensorElementType.UInt64 => TensorDatatypes.Uint64,
        TensorElementType.Int8 => TensorDatatypes.Int8,
        TensorElementType.Int16 => TensorDatatypes.Int16,
        TensorElementType.Int32 => TensorDatatypes.Int32,
        TensorElementType.Int64 => TensorDatatypes.Int64,
        TensorElementType.Float16 => TensorDatatypes.Fp16,
        TensorElementType.Float => TensorDatatypes.Fp32,
        TensorElementType.Double => TensorDatatypes.Fp64,
        TensorElementType.String => TensorDatatypes.Bytes,
        _ => throw new NotSupportedException($"ONNX element type {type} has no V2 datatype"),
    };

    /// <summary>
    /// By datatype, not by array type: the runtime treats a <c>uint[]</c> as an <c>int[]</c> (same size, same bits), so
    /// a type pattern would hand ONNX Runtime an unsigned tensor as a signed one.
    /// </summary>
    private static OrtValue ToOrtValue(Tensor tensor) => tensor.Datatype switch
    {
        TensorDatatypes.Fp32 => OrtValue.CreateTensorValueFromMemory((float[])tensor.Data, tensor.Shape),
        TensorDatatypes.Fp64 => OrtValue.CreateTensorValueFromMemory((double[])tensor.Data, tensor.Shape),
        TensorDatatypes.Int64 => OrtValue.CreateTensorValueFromMemory((long[])tensor.Data, tensor.Shape),
        TensorDatatypes.Int32 => OrtValue.CreateTensorValueFromMemory((int[])tensor.Data, tensor.Shape),
        TensorDatatypes.Int16 => OrtValue.CreateTensorValueFromMemory((short[])tensor.Data, tensor.Shape),
        TensorDatatypes.Int8 => OrtValue.CreateTensorValueFromMemory((sbyte[])tensor.Data, tensor.Shape),
        TensorDatatypes.Uint64 => OrtValue.CreateTensorValueFromMemory((ulong[])tensor.Data, tensor.Shape),
        TensorDatatypes.Uint32 => OrtValue.CreateTensorValueFromMemory((uint[])tensor.Data, tensor.Shape),
        TensorDatatypes.Uint16 => OrtValue.CreateTensorValueFromMemory((ushort[])tensor.Data, tensor.Shape),
        TensorDatatypes.Uint8 => OrtValue.CreateTensorValueFromMemory((byte[])tensor.Data, tensor.Shape),
        TensorDatatypes.Bool => OrtValue.CreateTensorValueFromMemory((bool[])tensor.Data, tensor.Shape),
        TensorDatatypes.Fp16 => OrtValue.CreateTensorValueFromMemory(((Half[])tensor.Data).Select(value => new Float16(BitConverter.HalfToUInt16Bits(value))).ToArray(), tensor.Shape),
        TensorDatatypes.Bytes => OrtValue.CreateFromStringTensor(new DenseTensor<string>((string[])tensor.Data, tensor.Shape.Select(dimension => (int)dimension).ToArray())),
        _ => throw new ArgumentException($"input '{tensor.Name}' has datatype {tensor.Datatype}, which has no ONNX element type"),
    };

    private static Tensor FromOrtValue(string name, OrtValue value)
    {
        if (value.OnnxType == OnnxValueType.ONNX_TYPE_SEQUENCE)
        {
            return FromZipMap(name, value);
        }

        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape;
        Array data = info.ElementDataType switch
        {
            TensorElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
            TensorElementType.Double => value.GetTensorDataAsSpan<double>().ToArray(),
            TensorElementType.Int64 => value.GetTensorDataAsSpan<long>().ToArray(),
            TensorElementType.Int32 => value.GetTensorDataAsSpan<int>().ToArray(),
            TensorElementType.Int16 => value.GetTensorDataAsSpan<short>().ToArray(),
            TensorElementType.Int8 => value.GetTensorDataAsSpan<sbyte>().ToArray(),
            TensorElementType.UInt64 => value.GetTensorDataAsSpan<ulong>().ToArray(),
            TensorElementType.UInt32 => value.GetTensorDataAsSpan<uint>().ToArray(),
            TensorElementType.UInt16 => value.GetTensorDataAsSpan<ushort>().ToArray(),
            TensorElementType.UInt8 => value.GetTensorDataAsSpan<byte>().ToArray(),
            TensorElementType.Bool => value.GetTensorDataAsSpan<bool>().ToArray(),
            TensorElementType.Float16 => value.GetTensorDataAsSpan<Float16>().ToArray().Select(half => BitConverter.UInt16BitsToHalf(half.value)).ToArray(),
            TensorElementType.String => value.GetStringTensorAsArray(),
            _ => throw new NotSupportedException($"output '{name}' has ONNX element type {info.ElementDataType}"),
        };
        return new Tensor(name, Datatype(info.ElementDataType), shape, data);
    }

    /// <summary>A sequence of N maps class → probability as FP32 [N, C], classes in the first map's order as labels.</summary>
    private static Tensor FromZipMap(string name, OrtValue sequence)
    {
        var rows = sequence.GetValueCount();
        List<string>? labels = null;
        float[] data = [];
        for (var row = 0; row < rows; row++)
        {
            using var map = sequence.GetValue(row, OrtAllocator.DefaultInstance);
            using var keys = map.GetValue(0, OrtAllocator.DefaultInstance);
            using var probabilities = map.GetValue(1, OrtAllocator.DefaultInstance);
            if (labels is null)
            {
                labels = keys.GetTensorTypeAndShape().ElementDataType == TensorElementType.String
                    ? [.. keys.GetStringTensorAsArray()]
                    : keys.GetTensorDataAsSpan<long>().ToArray().Select(key => key.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
                data = new float[rows * labels.Count];
            }

            var span = probabilities.GetTensorDataAsSpan<float>();
            span[..Math.Min(span.Length, labels.Count)].CopyTo(data.AsSpan(row * labels.Count));
        }

        return new Tensor(name, TensorDatatypes.Fp32, [rows, labels?.Count ?? 0], data, labels);
    }
}
