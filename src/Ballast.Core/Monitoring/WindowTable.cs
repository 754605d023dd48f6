using System.Data;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Monitoring;

/// <summary>
/// An endpoint's logged predictions as a table, one row per scored row (a batch request gives several): each input
/// tensor becomes columns (<c>name</c> for one value per row, else <c>name[0]</c>, <c>name[1]</c>… or the monitor's
/// <c>feature_names</c> for that tensor), each output likewise under <see cref="Outputs"/>, with the row's outcome
/// (from feedback: a scalar for a one-row request, or an array with one value per row) and its request's latency.
/// Float tensors give numbers; integer, boolean and string tensors give numbers for inputs and labels (text) for outputs.
/// </summary>
public sealed class WindowTable
{
    public Dictionary<string, List<object?>> Inputs { get; private init; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<object?>> Outputs { get; private init; } = new(StringComparer.Ordinal);

    public List<string?> Outcomes { get; private init; } = [];

    /// <summary>Per row, the expectations its request failed at serving when the endpoint flags them (<c>age.max,state.allowed</c>), else null.</summary>
    public List<string?> Flagged { get; private init; } = [];

    /// <summary>Per row, the variant that answered its request (the <c>variant</c> column of the prediction log: <c>ensemble</c> for an ensemble's answer).</summary>
    public List<string?> Variants { get; private init; } = [];

    /// <summary>One latency per logged request (not per row).</summary>
    public List<double> Latencies { get; private init; } = [];

    /// <summary>Per logged request, its prediction id and its number of rows (to join feedback again: <see cref="WithOutcomes"/>).</summary>
    private List<(string? PredictionId, int Rows)> Requests { get; init; } = [];

    public int Rows { get; private set; }

    /// <summary>The input tensors the table's requests have, by name.</summary>
    public HashSet<string> InputTensors { get; private init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Input tensors <c>feature_names</c> gives another count of names than their values a row (their columns are then
    /// named <c>NAME[i]</c>), with that width and the count of names given: a table read for a user who asked for those
    /// names tells them.
    /// </summary>
    public HashSet<(string Tensor, int Width, int Names)> UnnamedInputs { get; private init; } = [];

    /// <summary><see cref="UnnamedInputs"/> as sentences, by tensor: <c>'x' has 4 value(s) a row, but feature_names gives it 3 name(s)</c>.</summary>
    public IReadOnlyList<string> FeatureNameProblems() =>
        UnnamedInputs.OrderBy(input => input.Tensor, StringComparer.Ordinal)
            .Select(input => $"'{input.Tensor}' has {input.Width} value(s) a row, but feature_names gives it {input.Names} name(s)").ToList();

    /// <summary>
    /// The columns of the <c>predictions</c> view <see cref="Append"/> reads, in its order: a reader that needs more of a
    /// record selects these first and its own after them.
    /// </summary>
    public const string RecordColumns = "latency_ms, inputs, outputs, outcome, expectations, variant, prediction_id";

    /// <summary>
    /// Reads the <c>predictions</c> view of <see cref="Ballast.Serving.PredictionExport.QueryAsync"/> (the answers callers
    /// got, primary and forced: <see cref="Ballast.Serving.PredictionSegments.Answered"/>), of one <paramref name="variant"/> when given (a rollout's canary or stable variant), with the copies its
    /// shadow <paramref name="mirror"/> answered when given (a blue/green preview's mirror of production requests).
    /// </summary>
    public static WindowTable Read(DuckDBConnection connection, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames, long? limit = null, string? variant = null,
        string? mirror = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var table = new WindowTable();
        using var command = connection.CreateCommand();
        var which = variant is null ? Ballast.Serving.PredictionSegments.Answered : $"{Ballast.Serving.PredictionSegments.Answered} AND variant = {Literal(variant)}";
        if (variant is not null && mirror is not null)
        {
            which = $"(({which}) OR (kind = 'shadow' AND variant = {Literal(mirror)}))";
        }

        // The view has every column whatever shape its segments have (null where a segment lacks one), and is in write order.
        command.CommandText = $"SELECT {RecordColumns} FROM predictions WHERE {which} ORDER BY " + Ballast.Serving.PredictionSegments.Order
            + (limit is { } l ? " LIMIT " + l.ToString(CultureInfo.InvariantCulture) : "");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            table.Append(reader, featureNames);
        }

        return table;
    }

    /// <summary>
    /// Adds the record <paramref name="record"/> is on (its first columns <see cref="RecordColumns"/>): one row per row of
    /// its request, every column grown to the new row count. Returns the request's row count.
    /// </summary>
    public int Append(IDataRecord record, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames)
    {
        ArgumentNullException.ThrowIfNull(record);
        Latencies.Add(record.IsDBNull(0) ? 0 : record.GetDouble(0));
        var before = Rows;
        var rows = Add(Inputs, record.GetString(1), featureNames, labelsAsText: false);
        Add(Outputs, record.GetString(2), null, labelsAsText: true);
        Rows = before + rows;
        AddOutcomes(record.IsDBNull(3) ? null : record.GetString(3), rows);
        var flagged = record.IsDBNull(4) || record.GetString(4).Length == 0 ? null : record.GetString(4);
        Flagged.AddRange(Enumerable.Repeat(flagged, rows));
        Variants.AddRange(Enumerable.Repeat(record.IsDBNull(5) ? null : record.GetString(5), rows));
        Requests.Add((record.IsDBNull(6) ? null : record.GetString(6), rows));
        foreach (var column in Inputs.Values.Concat(Outputs.Values))
        {
            while (column.Count < Rows)
            {
                column.Add(null);
            }
        }

        return rows;
    }

    /// <summary>The prediction ids of the table's requests.</summary>
    public IReadOnlySet<string> PredictionIds() => Requests.Select(request => request.PredictionId).OfType<string>().ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The same predictions with each request's outcome taken from <paramref name="outcomes"/> (by prediction id, as
    /// feedback's JSON text) instead: the columns are shared with this table, not copied, so neither may change.
    /// </summary>
    public WindowTable WithOutcomes(IReadOnlyDictionary<string, string> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var table = new WindowTable
        {
            Inputs = Inputs, Outputs = Outputs, Flagged = Flagged, Variants = Variants, Latencies = Latencies, Requests = Requests, Rows = Rows, InputTensors = InputTensors,
            UnnamedInputs = UnnamedInputs,
        };
        foreach (var (id, rows) in Requests)
        {
            table.AddOutcomes(id is not null && outcomes.TryGetValue(id, out var outcome) ? outcome : null, rows);
        }

        return table;
    }

    /// <summary>An estimate of the memory the table holds (its values, per row and request), to bound a cache of it.</summary>
    public long EstimateBytes() =>
        Inputs.Values.Concat(Outputs.Values).Sum(column => ReferenceProfiles.Estimate(column)) + ReferenceProfiles.Estimate(Outcomes) + ReferenceProfiles.Estimate(Flagged) + ReferenceProfiles.Estimate(Variants)
        + (8L * Latencies.Count) + Requests.Sum(request => 32 + (2L * (request.PredictionId?.Length ?? 0)));

    /// <summary>Adds the tensors of one request; returns its row count (the first dimension of its first tensor).</summary>
    private int Add(Dictionary<string, List<object?>> columns, string json, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames, bool labelsAsText)
    {
        using var document = JsonDocument.Parse(json);
        var rows = -1;
        foreach (var tensor in document.RootElement.EnumerateArray())
        {
            var name = tensor.GetProperty("name").GetString() ?? "";
            var datatype = tensor.TryGetProperty("datatype", out var type) ? type.GetString() ?? "" : "";
            var shape = tensor.GetProperty("shape").EnumerateArray().Select(dimension => dimension.GetInt64()).ToArray();
            var data = tensor.GetProperty("data").EnumerateArray().ToList();
            var count = shape.Length == 0 ? 1 : (int)shape[0];
            var width = count == 0 ? 0 : data.Count / count;
            rows = rows < 0 ? count : rows;
            var given = featureNames?.GetValueOrDefault(name);
            if (ReferenceEquals(columns, Inputs))
            {
                InputTensors.Add(name);
                if (given is not null && given.Count != width)
                {
                    UnnamedInputs.Add((name, width, given.Count));
                }
            }

            var names = given is not null && given.Count == width
                ? given
                : width == 1 ? [name] : Enumerable.Range(0, width).Select(i => string.Create(CultureInfo.InvariantCulture, $"{name}[{i}]")).ToList();
            var text = datatype is "BYTES" || (labelsAsText && datatype is not ("FP16" or "FP32" or "FP64"));
            for (var j = 0; j < width; j++)
            {
                if (!columns.TryGetValue(names[j], out var column))
                {
                    column = [];
                    columns[names[j]] = column;
                }

                while (column.Count < Rows)
                {
                    column.Add(null);
                }

                for (var i = 0; i < count && i < rows; i++)
                {
                    column.Add(Value(data[(i * width) + j], text));
                }
            }
        }

        return Math.Max(rows, 0);
    }

    /// <summary>
    /// The outcomes as a column: numbers when every outcome is a number or true/false (1 and 0), else the labels as
    /// text; null where a row has none.
    /// </summary>
    public List<object?> OutcomeValues()
    {
        var numeric = Outcomes.All(IsNumeric);
        return Outcomes.Select(outcome => outcome is null ? null
            : !numeric ? (object)outcome
            : outcome == "true" ? 1.0 : outcome == "false" ? 0.0 : double.Parse(outcome, NumberStyles.Float, CultureInfo.InvariantCulture)).ToList();
    }

    /// <summary>Whether an outcome is one <see cref="OutcomeValues"/> reads as a number: none, true or false, or a number.</summary>
    public static bool IsNumeric(string? outcome) =>
        outcome is null or "true" or "false" || double.TryParse(outcome, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>
    /// A <c>feature_names</c> map (input tensor name to a non-empty list of non-empty column names), or null when
    /// <paramref name="node"/> is anything else.
    /// </summary>
    public static Dictionary<string, IReadOnlyList<string>>? ReadFeatureNames(JsonNode? node)
    {
        if (node is not JsonObject map)
        {
            return null;
        }

        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (tensor, names) in map)
        {
            if (names is not JsonArray list || list.Count == 0 || list.Any(item => item is not JsonValue value || !value.TryGetValue<string>(out var text) || text.Length == 0))
            {
                return null;
            }

            result[tensor] = list.Select(item => item!.GetValue<string>()).ToList();
        }

        return result;
    }

    /// <summary>
    /// <see cref="ReadFeatureNames"/> of JSON text (a query parameter, a command-line option), or a
    /// <see cref="Tracking.TrackingException"/> saying what is wrong with it.
    /// </summary>
    public static Dictionary<string, IReadOnlyList<string>> ParseFeatureNames(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException exception)
        {
            throw Tracking.TrackingException.Invalid($"feature_names is not JSON: {JsonErrorText.WithoutPosition(exception.Message)}");
        }

        return ReadFeatureNames(node)
            ?? throw Tracking.TrackingException.Invalid($"feature_names must map input tensors to lists of column names ({{\"features\": [\"age\", \"income\"]}}), not {json}");
    }

    private void AddOutcomes(string? outcome, int rows)
    {
        List<string?> values = [];
        if (outcome is not null)
        {
            using var document = JsonDocument.Parse(outcome);
            if (document.RootElement.ValueKind == JsonValueKind.Array && document.RootElement.GetArrayLength() == rows)
            {
                values.AddRange(document.RootElement.EnumerateArray().Select(Label));
            }
            else if (rows == 1 && document.RootElement.ValueKind != JsonValueKind.Array)
            {
                values.Add(Label(document.RootElement));
            }
        }

        for (var i = 0; i < rows; i++)
        {
            Outcomes.Add(i < values.Count ? values[i] : null);
        }
    }

    private static object? Value(JsonElement element, bool text) => element.ValueKind switch
    {
        JsonValueKind.Number when text => Label(element),
        JsonValueKind.Number => element.GetDouble(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.True => text ? "true" : 1.0,
        JsonValueKind.False => text ? "false" : 0.0,
        _ => null,
    };

    /// <summary>A label as text: numbers in their shortest invariant form (1, not 1.0), strings as they are.</summary>
    public static string? Label(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => element.GetDouble().ToString("R", CultureInfo.InvariantCulture),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    /// <summary>
    /// Writes the chosen columns (input or output) of the rows where <paramref name="keep"/> holds to a Parquet file
    /// (numbers as DOUBLE, whole numbers given as <see cref="long"/> as BIGINT, anything else as VARCHAR), for
    /// <see cref="DriftTableReader"/>.
    /// </summary>
    public void WriteParquet(string path, IReadOnlyList<(string Name, List<object?> Values)> columns, Func<int, bool>? keep = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var numeric = columns.Select(column => column.Values.All(value => value is null or double)).ToList();
        var whole = columns.Select((column, i) => !numeric[i] && column.Values.All(value => value is null or long)).ToList();
        Execute(connection, "SET threads = 1; CREATE TABLE rows (" + string.Join(", ", columns.Select((column, i) => $"{Identifier(column.Name)} {(numeric[i] ? "DOUBLE" : whole[i] ? "BIGINT" : "VARCHAR")}")) + ")");
        using (var appender = connection.CreateAppender("rows"))
        {
            for (var row = 0; row < Rows; row++)
            {
                if (keep is not null && !keep(row))
                {
                    continue;
                }

                var appended = appender.CreateRow();
                for (var i = 0; i < columns.Count; i++)
                {
                    appended = columns[i].Values[row] switch
                    {
                        null => appended.AppendNullValue(),
                        double number when numeric[i] => appended.AppendValue(number),
                        long number when whole[i] => appended.AppendValue(number),
                        var value => appended.AppendValue(Convert.ToString(value, CultureInfo.InvariantCulture)),
                    };
                }

                appended.EndRow();
            }
        }

        Execute(connection, $"COPY rows TO '{path.Replace("'", "''", StringComparison.Ordinal)}' (FORMAT parquet)");
    }
}
