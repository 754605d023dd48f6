using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ballast.Runtime;

/// <summary>
/// An ML.NET model (the zip <c>MLContext.Model.Save</c> writes, with its input schema) served with no compile-time
/// classes: each request's tensors become an <see cref="IDataView"/> of the model's input schema whose rows go through
/// the row mapper made once from the transformer at load (shared like ML.NET's parallel cursors share a pipeline; no
/// PredictionEngine, which is not thread-safe), and the request's own output row is read back into tensors.
/// <para>
/// Signature: a scalar column is a tensor [-1] (one value per row), a vector column of known size K is [-1, K]
/// ([-1, d1, d2…] for a multi-dimensional one) and of unknown size [-1, -1]. Single → FP32, Double → FP64, Boolean →
/// BOOL, the integer types → INT8…UINT64, text → BYTES. A key input is its raw unsigned type (UINT32 mostly) holding
/// 0…K-1, as a <c>[KeyType(K)]</c> field does. A key output is given the same way round: with key values (a multiclass
/// trainer's <c>PredictedLabel</c>: the classes) as BYTES, each row's value ("" for a missing key), as
/// <c>MapKeyToValue</c> would give it; without, as INT64, its index 0…K-1 (-1 for a missing key). Inputs are the input
/// schema's columns that the outputs read (the training label is not one: a column no output needs is given default
/// values). Outputs are the columns the model computes last: those no later step of the pipeline reads (<c>Score</c>,
/// <c>PredictedLabel</c>, <c>Probability</c>, not <c>Features</c>), except columns that keep an input's name. A vector
/// output with slot names (a multiclass <c>Score</c>: the classes) carries them as <see cref="TensorSpec.Labels"/>.
/// </para>
/// </summary>
public sealed class MlNetModelRuntime : IModelRuntime
{
    private static readonly MethodInfo KeysMethod = typeof(MlNetModelRuntime).GetMethod(nameof(Keys), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static readonly MethodInfo KeyValuesMethod = typeof(MlNetModelRuntime).GetMethod(nameof(KeyValuesOf), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static readonly Dictionary<Type, string> Datatypes = new()
    {
        [typeof(float)] = TensorDatatypes.Fp32,
        [typeof(double)] = TensorDatatypes.Fp64,
        [typeof(bool)] = TensorDatatypes.Bool,
        [typeof(sbyte)] = TensorDatatypes.Int8,
        [typeof(byte)] = TensorDatatypes.Uint8,
        [typeof(short)] = TensorDatatypes.Int16,
        [typeof(ushort)] = TensorDatatypes.Uint16,
        [typeof(int)] = TensorDatatypes.Int32,
        [typeof(uint)] = TensorDatatypes.Uint32,
        [typeof(long)] = TensorDatatypes.Int64,
        [typeof(ulong)] = TensorDatatypes.Uint64,
        [typeof(ReadOnlyMemory<char>)] = TensorDatatypes.Bytes,
    };

    private readonly ITransformer _model;
    private readonly DataViewSchema _schema;
    private readonly IRowToRowMapper? _mapper;
    private readonly TensorColumn[] _defaults;
    private readonly Dictionary<string, InputBinding> _inputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorSpec> _outputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<DataViewRow, DataViewSchema.Column, TensorSpec, long, OutputColumnReader>> _readers = new(StringComparer.Ordinal);

    private MlNetModelRuntime(ITransformer model, DataViewSchema inputSchema)
    {
        _model = model;

        // The schema the model was saved with, rebuilt (annotations such as slot names and key values included).
        var builder = new DataViewSchema.Builder();
        foreach (var column in inputSchema)
        {
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        }

        _schema = builder.ToSchema();
        _defaults = _schema.Select(column => TensorColumn.Default(column.Type)).ToArray();

        _mapper = model.IsRowToRowMapper ? model.GetRowToRowMapper(_schema) : null;
        var outputSchema = model.GetOutputSchema(_schema);
        var outputColumns = FinalColumns(model, _schema, outputSchema);
        var needed = InputsRead(_mapper, _schema, outputColumns.Select(column => column.Name));
        var inputs = new List<TensorSpec>();
        foreach (var column in _schema.Where(column => !column.IsHidden && needed.Contains(column.Name)))
        {
            var spec = new TensorSpec(column.Name, Datatype(ItemType(column.Type), column.Name), Shape(column.Type));
            inputs.Add(spec);
            _inputs[column.Name] = ItemType(column.Type) is KeyDataViewType key
                ? new InputBinding(column.Index, spec, key.Count, KeysMethod.MakeGenericMethod(key.RawType).CreateDelegate<Func<Tensor, ulong, Array>>())
                : new InputBinding(column.Index, spec, 0, null);
        }

        var outputs = new List<TensorSpec>();
        foreach (var column in outputColumns)
        {
            var item = ItemType(column.Type);
            // A key output is given as a key input is taken: its value when it has one (as an ONNX classifier's label
            // output gives the class, not its index), else its index 0..K-1.
            var keyValues = item is KeyDataViewType ? KeyValues(column) : null;
            var spec = item is KeyDataViewType
                ? new TensorSpec(column.Name, keyValues is null ? TensorDatatypes.Int64 : TensorDatatypes.Bytes, Shape(column.Type), SlotNames(column))
                : new TensorSpec(column.Name, Datatype(item, column.Name), Shape(column.Type), SlotNames(column));
            outputs.Add(spec);
            _outputs[column.Name] = spec;
            _readers[column.Name] = OutputColumnReader.Factory(item, keyValues);
        }

        Signature = new ModelSignature(inputs, outputs);
    }

    public string Flavor => ModelFlavors.MlNet;

    public ModelSignature Signature { get; }

    /// <summary>Loads a model zip; a file ML.NET cannot load throws <see cref="ModelLoadException"/> with its reason.</summary>
    public static MlNetModelRuntime Load(string path)
    {
        ITransformer model;
        DataViewSchema? inputSchema;
        try
        {
            model = new MLContext(seed: 0).Model.Load(path, out inputSchema);
        }
        catch (Exception exception) when (LoadFailure(exception) is { } reason)
        {
            throw new ModelLoadException("not a model ML.NET can load: " + reason, exception);
        }

        if (inputSchema is null)
        {
            (model as IDisposable)?.Dispose();
            throw new ModelLoadException("the model was saved without its input schema: save it with mlContext.Model.Save(model, data.Schema, path)");
        }

        try
        {
            return new MlNetModelRuntime(model, inputSchema);
        }
        catch (NotSupportedException exception)
        {
            (model as IDisposable)?.Dispose();
            throw new ModelLoadException("the model uses a type Ballast cannot serve: " + exception.Message, exception);
        }
        catch (Exception exception) when (exception is InvalidOperationException or ArgumentException or FormatException)
        {
            (model as IDisposable)?.Dispose();
            throw new ModelLoadException("the model does not take the input schema it was saved with: " + exception.Message.Split('\n')[0].Trim(), exception);
        }
    }

    public IReadOnlyList<Tensor> Infer(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null)
    {
        SignatureCheck.Inputs(Signature, inputs);
        SignatureCheck.Outputs(Signature, outputs);
        var rows = inputs.Count > 0 ? inputs[0].Shape[0] : 0;
        var columns = (TensorColumn[])_defaults.Clone();
        // SignatureCheck saw every input hold the same number of rows (each spec's first dimension is the batch's).
        foreach (var input in inputs)
        {
            var binding = _inputs[input.Name];
            var data = binding.ToKeys is { } toKeys ? toKeys(input, binding.KeyCount) : input.Data;
            columns[binding.Index] = TensorColumn.From(data, binding.Spec.Shape.Count == 1 ? 0 : checked((int)Tensor.ElementCount(input.Shape[1..])));
        }

        var view = new TensorDataView(_schema, columns, rows);
        var names = outputs is { Count: > 0 } ? outputs.ToList() : Signature.Outputs.Select(output => output.Name).ToList();
        if (_mapper is null)
        {
            var transformed = _model.Transform(view);
            var wanted = names.Select(name => transformed.Schema[name]).ToList();
            using var cursor = transformed.GetRowCursor(wanted);
            return Read(cursor, cursor, wanted, names, rows);
        }

        // A row-to-row model (almost every one) maps each input row through the mapper made at load: the getters
        // ML.NET's own cursors use, without binding every step of the pipeline again for each request.
        var selected = names.Select(name => _mapper.OutputSchema[name]).ToList();
        using var source = view.GetRowCursor(_mapper.GetDependencies(selected));
        using var row = _mapper.GetRow(source, selected);
        return Read(source, row, selected, names, rows);
    }

    public void Dispose() => (_model as IDisposable)?.Dispose();

    private List<Tensor> Read(DataViewRowCursor cursor, DataViewRow row, List<DataViewSchema.Column> columns, List<string> names, long rows)
    {
        var readers = names.Select((name, i) => _readers[name](row, columns[i], _outputs[name], rows)).ToList();
        while (cursor.MoveNext())
        {
            foreach (var reader in readers)
            {
                reader.ReadRow();
            }
        }

        return readers.Select(reader => reader.ToTensor()).ToList();
    }

    /// <summary>Why ML.NET could not load a file, or null for a failure that is not about the file.</summary>
    private static string? LoadFailure(Exception exception)
    {
        // Loaders are found by reflection: their failures arrive wrapped.
        while (exception is TargetInvocationException { InnerException: { } inner })
        {
            exception = inner;
        }

        return exception switch
        {
            // A model trained with a component outside the Microsoft.ML package (FastTree, LightGbm, …) names its assembly.
            FileNotFoundException { FileName: { } assembly } when assembly.StartsWith("Microsoft.ML.", StringComparison.Ordinal) =>
                $"it needs the ML.NET component {assembly.Split(',')[0]}, which this server does not include",
            FormatException or InvalidOperationException or InvalidDataException or IOException or ArgumentException
                or NotSupportedException or InvalidCastException or UnauthorizedAccessException or TypeLoadException => exception.Message.Split('\n')[0].Trim(),
            _ => null,
        };
    }

    /// <summary>
    /// The columns the model computes last: made by one of its steps, read by no later step, visible at the end and
    /// not named like an input (an input transformed in place, such as the label mapped to a key, is not an output).
    /// </summary>
    private static List<DataViewSchema.Column> FinalColumns(ITransformer model, DataViewSchema input, DataViewSchema output)
    {
        var made = new HashSet<string>(StringComparer.Ordinal);
        var read = new HashSet<string>(StringComparer.Ordinal);
        var schema = input;
        foreach (var step in Steps(model))
        {
            var next = step.GetOutputSchema(schema);
            var added = next.Where(column => column.Index >= schema.Count).Select(column => column.Name).ToList();
            if (step.IsRowToRowMapper)
            {
                var mapper = step.GetRowToRowMapper(schema);
                read.UnionWith(mapper.GetDependencies(mapper.OutputSchema.Where(column => column.Index >= schema.Count)).Select(column => column.Name));
            }

            // A step that is not row-to-row does not tell what it reads: the columns before it stay outputs.
            read.ExceptWith(added);
            made.UnionWith(added);
            schema = next;
        }

        return output.Where(column => !column.IsHidden && made.Contains(column.Name) && !read.Contains(column.Name) && input.GetColumnOrNull(column.Name) is null).ToList();
    }

    /// <summary>The steps of a model, chains flattened.</summary>
    private static IEnumerable<ITransformer> Steps(ITransformer model) =>
        model is IEnumerable<ITransformer> chain ? chain.SelectMany(Steps) : [model];

    /// <summary>The names of the input columns that <paramref name="outputs"/> are computed from (all when the model cannot tell).</summary>
    private static HashSet<string> InputsRead(IRowToRowMapper? mapper, DataViewSchema input, IEnumerable<string> outputs) =>
        (mapper is null ? input : mapper.GetDependencies(outputs.Select(name => mapper.OutputSchema[name]))).Select(column => column.Name).ToHashSet(StringComparer.Ordinal);

    private static DataViewType ItemType(DataViewType type) => type is VectorDataViewType vector ? vector.ItemType : type;

    private static long[] Shape(DataViewType type) => type switch
    {
        VectorDataViewType { IsKnownSize: true } vector => [-1, .. vector.Dimensions.Select(dimension => (long)dimension)],
        VectorDataViewType => [-1, -1],
        _ => [-1],
    };

    private static string Datatype(DataViewType item, string column) =>
        item is NumberDataViewType or KeyDataViewType or BooleanDataViewType or TextDataViewType && Datatypes.TryGetValue(item.RawType, out var datatype)
            ? datatype
            : throw new NotSupportedException($"column '{column}' is of ML.NET type {item}, which has no V2 datatype");

    /// <summary>The names of a vector output's slots (a multiclass score's classes), or null.</summary>
    private static List<string>? SlotNames(DataViewSchema.Column column)
    {
        if (column.Type is VectorDataViewType { IsKnownSize: true } vector && column.HasSlotNames())
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            column.GetSlotNames(ref names);
            return names.Length == vector.Size ? names.DenseValues().Select(name => name.ToString()).ToList() : null;
        }

        return null;
    }

    /// <summary>A key column's values as text (the classes a multiclass trainer's <c>PredictedLabel</c> names), key 1 first; null when it has none.</summary>
    private static List<string>? KeyValues(DataViewSchema.Column column) =>
        column.Annotations.Schema.GetColumnOrNull("KeyValues") is { Type: VectorDataViewType values }
            ? (List<string>)KeyValuesMethod.MakeGenericMethod(values.ItemType.RawType).Invoke(null, [column])!
            : null;

    private static List<string> KeyValuesOf<T>(DataViewSchema.Column column)
    {
        VBuffer<T> values = default;
        column.GetKeyValues(ref values);
        return values.DenseValues().Select(value => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "").ToList();
    }

    /// <summary>
    /// A key input's values as ML.NET's classes hold them, 0 to count - 1 (a <c>[KeyType]</c> field: what a
    /// PredictionEngine is given), turned into the data view's raw keys, 1 to count (0 is a missing key); a value past
    /// the last key is refused rather than read as missing. Typed (made once per input at load): no boxing per value.
    /// </summary>
    private static T[] Keys<T>(Tensor input, ulong count)
        where T : struct, System.Numerics.IBinaryInteger<T>
    {
        var values = (T[])input.Data;
        var raw = new T[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var key = ulong.CreateTruncating(values[i]);
            if (key >= count)
            {
                throw new ModelInputException($"input '{input.Name}': value {i} ({key}) is not a key of 0..{count - 1}");
            }

            raw[i] = values[i] + T.One;
        }

        return raw;
    }

    private sealed record InputBinding(int Index, TensorSpec Spec, ulong KeyCount, Func<Tensor, ulong, Array>? ToKeys);
}
