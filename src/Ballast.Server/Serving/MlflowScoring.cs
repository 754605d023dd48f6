using System.Globalization;
using System.Text.Json;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Tracking;
using Microsoft.AspNetCore.Http;

namespace Ballast.Server.Serving;

/// <summary>
/// MLflow's scoring protocol (<c>mlflow models serve</c>): a JSON body with exactly one of <c>dataframe_split</c>,
/// <c>dataframe_records</c>, <c>instances</c> or <c>inputs</c>, or a CSV body with a header row. Columns become the
/// model's inputs: by name when the model's inputs are named like the columns (one [N, 1] tensor each), otherwise all
/// columns in order form the single input's [N, K] matrix. The answer is <c>{"predictions": …}</c>: one output's values
/// per row, or an object of outputs when the model has several.
/// </summary>
public static class MlflowScoring
{
    private static readonly string[] Formats = ["dataframe_split", "dataframe_records", "instances", "inputs"];

    public static async Task InvokeAsync(string name, HttpContext http, EndpointRouter router, PredictionLog log, TimeProvider time)
    {
        var endpoint = InferenceApi.Find(router, name);
        var mediaType = Serialization.RequestMediaType.Of(http.Request);
        // With a feature service the columns are the entity key and the request-time fields, not the model's inputs.
        var signature = Features.ServingFeatures.RequestSignature(endpoint, http) ?? endpoint.Variants[0].Model.Runtime.Signature;
        IReadOnlyList<Tensor> inputs;
        if (mediaType == "text/csv")
        {
            using var reader = new StreamReader(http.Request.Body);
            inputs = FromTable(signature, ReadCsv(await reader.ReadToEndAsync(http.RequestAborted).ConfigureAwait(false)));
        }
        else if (Serialization.RequestMediaType.IsJson(mediaType))
        {
            using var document = await InferenceApi.ReadJsonAsync(http).ConfigureAwait(false);
            inputs = FromJson(signature, document.RootElement);
        }
        else
        {
            // MLflow's scoring server names the type it refuses, and answers 415 to a body without one too.
            throw new Serialization.UnsupportedMediaTypeException(
                $"Content type '{http.Request.ContentType}' is not supported; send application/json (dataframe_split, dataframe_records, instances or inputs) or text/csv.");
        }

        InferenceApi.RequireRows(inputs);
        var enriched = await Features.ServingFeatures.EnrichAsync(endpoint, http, inputs).ConfigureAwait(false);
        var flagged = ServingExpectations.Check(endpoint, http, enriched.Model);
        var scored = await InferenceApi.ScoreAsync(endpoint, null, http, enriched.Model, null, time).ConfigureAwait(false);
        await InferenceApi.LogAsync(log, endpoint, scored, enriched.Logged, time, http.RequestAborted, flagged).ConfigureAwait(false);
        ShadowTraffic.AfterResponse(http, endpoint, scored, enriched.Model, log, time);
        http.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter.AsStream(), Serialization.ApiJson.WriterOptions);
        writer.WriteStartObject();
        writer.WritePropertyName("predictions");
        var outputs = scored.Invocation.Outputs;
        if (outputs.Count == 1)
        {
            WriteNested(writer, outputs[0]);
        }
        else
        {
            writer.WriteStartObject();
            foreach (var output in outputs)
            {
                writer.WritePropertyName(output.Name);
                WriteNested(writer, output);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        await writer.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A table of cells (JSON values) by column name, in row order.</summary>
    private sealed record Table(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<JsonElement>> Rows);

    private static List<Tensor> FromJson(ModelSignature signature, JsonElement root)
    {
        var present = root.ValueKind == JsonValueKind.Object ? Formats.Where(format => root.TryGetProperty(format, out _)).ToList() : [];
        if (present.Count != 1)
        {
            throw TrackingException.Invalid(present.Count == 0
                ? $"The JSON body must hold exactly one of {string.Join(", ", Formats)}."
                : $"The JSON body holds {string.Join(" and ", present)}; send exactly one of {string.Join(", ", Formats)}.");
        }

        var payload = root.GetProperty(present[0]);
        switch (present[0])
        {
            case "dataframe_split":
                if (payload.ValueKind != JsonValueKind.Object || !payload.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                {
                    throw TrackingException.Invalid("dataframe_split needs 'data', a list of rows (and 'columns').");
                }

                var columns = payload.TryGetProperty("columns", out var names) && names.ValueKind == JsonValueKind.Array
                    ? names.EnumerateArray().Select((column, i) => column.ValueKind is JsonValueKind.String or JsonValueKind.Number ? column.ToString()
                        : throw TrackingException.Invalid($"dataframe_split: columns[{i}] is {column.GetRawText()}; name each column with a string.")).ToList()
                    : Enumerable.Range(0, data.EnumerateArray().FirstOrDefault().ValueKind == JsonValueKind.Array ? data[0].GetArrayLength() : 0).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
                return FromTable(signature, new Table(columns, data.EnumerateArray().Select(row => Row(row, columns.Count)).ToList()));
            case "dataframe_records":
                return FromRecords(signature, payload, "dataframe_records");
            case "instances" when payload.ValueKind == JsonValueKind.Array && payload.GetArrayLength() > 0 && payload[0].ValueKind == JsonValueKind.Object:
                using (var byInput = InstancesByInput(signature, payload))
                {
                    return byInput is null ? FromRecords(signature, payload, "instances") : FromTensors(signature, byInput.RootElement, "instances");
                }

            default:
                return FromTensors(signature, payload, present[0]);
        }
    }

    private static List<Tensor> FromRecords(ModelSignature signature, JsonElement records, string format)
    {
        if (records.ValueKind != JsonValueKind.Array || records.EnumerateArray().Any(record => record.ValueKind != JsonValueKind.Object))
        {
            throw TrackingException.Invalid($"{format} must be a list of objects, one per row.");
        }

        var columns = records.EnumerateArray().SelectMany(record => record.EnumerateObject().Select(property => property.Name)).Distinct(StringComparer.Ordinal).ToList();
        var rows = records.EnumerateArray().Select(record => (IReadOnlyList<JsonElement>)columns.Select(column => record.TryGetProperty(column, out var value) ? value : default).ToList()).ToList();
        return FromTable(signature, new Table(columns, rows));
    }

    /// <summary>
    /// TF Serving's row format, <c>[{"x": [5.1, 3.5, 1.4, 0.2]}, …]</c>: when every key of every instance names an input, the
    /// instances as one object of input name → the list of its rows' values (then read as <c>inputs</c>); null otherwise.
    /// </summary>
    private static JsonDocument? InstancesByInput(ModelSignature signature, JsonElement instances)
    {
        var names = signature.Inputs.Select(input => input.Name).ToList();
        if (instances.EnumerateArray().Any(instance => instance.ValueKind != JsonValueKind.Object || instance.EnumerateObject().Any(property => !names.Contains(property.Name))))
        {
            return null;
        }

        var present = names.Where(name => instances.EnumerateArray().Any(instance => instance.TryGetProperty(name, out _))).ToList();
        var missing = present.FirstOrDefault(name => instances.EnumerateArray().Any(instance => !instance.TryGetProperty(name, out _)));
        if (missing is not null)
        {
            throw new ModelInputException($"instances: every instance needs '{missing}' (some have it)");
        }

        var json = new System.Text.StringBuilder("{");
        foreach (var name in present)
        {
            json.Append(json.Length > 1 ? "," : "").Append(JsonSerializer.Serialize(name, Serialization.ServerJsonContext.Default.String)).Append(":[")
                .AppendJoin(',', instances.EnumerateArray().Select(instance => instance.GetProperty(name).GetRawText())).Append(']');
        }

        return JsonDocument.Parse(json.Append('}').ToString());
    }

    /// <summary><c>inputs</c> or <c>instances</c> as tensors: an object of input name → nested list, or one nested list for a one-input model.</summary>
    private static List<Tensor> FromTensors(ModelSignature signature, JsonElement payload, string format)
    {
        if ((payload.ValueKind == JsonValueKind.Array && payload.GetArrayLength() == 0) || (payload.ValueKind == JsonValueKind.Object && !payload.EnumerateObject().Any()))
        {
            throw TrackingException.Invalid(InferenceApi.NoRows);
        }

        if (payload.ValueKind == JsonValueKind.Object)
        {
            return payload.EnumerateObject().Select(property =>
            {
                var spec = signature.Inputs.FirstOrDefault(input => input.Name == property.Name)
                           ?? throw new ModelInputException($"unknown input '{property.Name}'; the model takes {string.Join(", ", signature.Inputs.Select(input => $"'{input.Name}'"))}");
                return Tensorize(spec, property.Value);
            }).ToList();
        }

        if (signature.Inputs.Count != 1)
        {
            throw new ModelInputException($"{format} as a plain list fits a model with one input; this one takes {string.Join(", ", signature.Inputs.Select(input => $"'{input.Name}'"))}: send an object of input name to values");
        }

        return [Tensorize(signature.Inputs[0], payload)];
    }

    /// <summary>A nested JSON list as a tensor of <paramref name="spec"/>'s datatype, its shape read from the nesting.</summary>
    private static Tensor Tensorize(TensorSpec spec, JsonElement value)
    {
        var shape = new List<long>();
        for (var level = value; level.ValueKind == JsonValueKind.Array; level = level.GetArrayLength() > 0 ? level[0] : default)
        {
            shape.Add(level.GetArrayLength());
            if (level.GetArrayLength() == 0)
            {
                break;
            }
        }

        // A flat list for a [-1, 1] input is one value per row.
        if (shape.Count == spec.Shape.Count - 1 && spec.Shape[^1] == 1)
        {
            shape.Add(1);
        }

        using var document = JsonDocument.Parse($"{{\"name\":{JsonSerializer.Serialize(spec.Name, Serialization.ServerJsonContext.Default.String)},\"datatype\":\"{spec.Datatype}\",\"shape\":[{string.Join(",", shape)}],\"data\":{value.GetRawText()}}}");
        return V2Codec.ReadTensor(document.RootElement);
    }

    private static List<Tensor> FromTable(ModelSignature signature, Table table)
    {
        var rows = table.Rows.Count;
        if (rows == 0)
        {
            // Before the columns are matched: an empty dataframe_records list has no columns either.
            throw TrackingException.Invalid(InferenceApi.NoRows);
        }

        var byName = signature.Inputs.All(input => table.Columns.Contains(input.Name));
        if (byName)
        {
            return signature.Inputs.Select(spec =>
            {
                var column = table.Columns.ToList().IndexOf(spec.Name);
                var shape = spec.Shape.Count == 1 ? new long[] { rows } : [rows, 1];
                return new Tensor(spec.Name, spec.Datatype, shape, Cells(spec, table.Rows.Select(row => row[column]).ToList()));
            }).ToList();
        }

        if (signature.Inputs.Count == 1 && signature.Inputs[0].Shape.Count == 2)
        {
            var spec = signature.Inputs[0];
            if (spec.Shape[1] >= 0 && spec.Shape[1] != table.Columns.Count)
            {
                throw new ModelInputException($"input '{spec.Name}' takes {spec.Shape[1]} columns per row ({spec}); got {table.Columns.Count} ({string.Join(", ", table.Columns)})");
            }

            return [new Tensor(spec.Name, spec.Datatype, [rows, table.Columns.Count], Cells(spec, table.Rows.SelectMany(row => row).ToList()))];
        }

        var missing = signature.Inputs.Where(input => !table.Columns.Contains(input.Name)).Select(input => $"'{input.Name}'");
        throw new ModelInputException($"the columns ({string.Join(", ", table.Columns)}) lack the model's input(s) {string.Join(", ", missing)}; " +
            $"it takes {string.Join(", ", signature.Inputs.Select(input => $"'{input.Name}' {input}"))}");
    }

    private static Array Cells(TensorSpec spec, List<JsonElement> cells)
    {
        using var document = JsonDocument.Parse($"{{\"name\":{JsonSerializer.Serialize(spec.Name, Serialization.ServerJsonContext.Default.String)},\"datatype\":\"{spec.Datatype}\",\"shape\":[{cells.Count}],\"data\":[{string.Join(",", cells.Select(cell => CellJson(spec.Datatype, cell)))}]}}");
        return V2Codec.ReadTensor(document.RootElement).Data;
    }

    /// <summary>
    /// A cell as the V2 JSON value of <paramref name="datatype"/>. As pandas reads them: a missing value (null, an absent
    /// key, an empty CSV cell) in a floating-point column is NaN; CSV text is parsed by the column's type (".5", "+5",
    /// "05", "NaN", "inf", "True"). What does not parse stays a string, which the tensor reader refuses with its position.
    /// </summary>
    private static string CellJson(string datatype, JsonElement cell)
    {
        var floats = TensorDatatypes.IsFloatingPoint(datatype);
        if (cell.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null || (cell.ValueKind == JsonValueKind.String && cell.GetString()!.Length == 0 && datatype != TensorDatatypes.Bytes))
        {
            return floats ? "\"NaN\"" : "null";
        }

        if (cell.ValueKind != JsonValueKind.String || datatype == TensorDatatypes.Bytes)
        {
            return cell.GetRawText();
        }

        var text = cell.GetString()!.Trim();
        if (datatype == TensorDatatypes.Bool && bool.TryParse(text, out var flag))
        {
            return flag ? "true" : "false";
        }

        if (!floats && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
        {
            return integer.ToString(CultureInfo.InvariantCulture);
        }

        if (!floats && ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var unsigned))
        {
            return unsigned.ToString(CultureInfo.InvariantCulture);
        }

        // "1.0" is the whole number 1 (the JSON reader checks the range); "1.5" stays text and is refused.
        if (!floats && datatype != TensorDatatypes.Bool && decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var whole) && whole == decimal.Truncate(whole))
        {
            return decimal.Truncate(whole).ToString(CultureInfo.InvariantCulture);
        }

        // Python's float() also takes "inf", "+inf", "infinity" and "nan" in any case, which .NET's parser does not all take.
        var magnitude = text.AsSpan(text.StartsWith('+') || text.StartsWith('-') ? 1 : 0);
        if (floats && magnitude.Equals("nan", StringComparison.OrdinalIgnoreCase))
        {
            return "\"NaN\"";
        }

        if (floats && (magnitude.Equals("inf", StringComparison.OrdinalIgnoreCase) || magnitude.Equals("infinity", StringComparison.OrdinalIgnoreCase)))
        {
            return text.StartsWith('-') ? "\"-Infinity\"" : "\"Infinity\"";
        }

        if (floats && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return double.IsNaN(number) ? "\"NaN\"" : double.IsInfinity(number) ? (number > 0 ? "\"Infinity\"" : "\"-Infinity\"") : number.ToString("R", CultureInfo.InvariantCulture);
        }

        return cell.GetRawText();
    }

    private static List<JsonElement> Row(JsonElement row, int columns)
    {
        if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != columns)
        {
            throw TrackingException.Invalid($"dataframe_split: every row must be a list of {columns} values, one per column; got {row.GetRawText()}.");
        }

        return row.EnumerateArray().ToList();
    }

    private static Table ReadCsv(string text)
    {
        var records = SplitCsv(text);
        if (records.Count == 0)
        {
            throw TrackingException.Invalid("The CSV body is empty; send a header row and one row per prediction.");
        }

        var columns = records[0];
        var rows = records.Skip(1).Select((cells, i) => cells.Count == columns.Count
            // An empty cell is a missing value, as pandas reads it (NaN): in a floating-point column NaN, refused in any other.
            ? (IReadOnlyList<JsonElement>)cells.Select(cell => cell.Length == 0 ? default : JsonSerializer.SerializeToElement(cell, Serialization.ServerJsonContext.Default.String)).ToList()
            : throw TrackingException.Invalid($"CSV row {i + 1} has {cells.Count} cells; the header has {columns.Count}.")).ToList();
        return new Table(columns, rows);
    }

    /// <summary>The records of a CSV text (RFC 4180: quoted cells may hold commas, doubled quotes and line breaks); blank lines are skipped.</summary>
    private static List<List<string>> SplitCsv(string text)
    {
        var records = new List<List<string>>();
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        var blank = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    quoted = true;
                    blank = false;
                    break;
                case ',':
                    cells.Add(cell.ToString());
                    cell.Clear();
                    blank = false;
                    break;
                case '\n':
                    EndRecord();
                    break;
                case '\r':
                    break;
                default:
                    cell.Append(c);
                    blank = false;
                    break;
            }
        }

        if (quoted)
        {
            throw TrackingException.Invalid($"CSV record {records.Count + 1} opens a quoted cell that is never closed.");
        }

        EndRecord();
        return records;

        void EndRecord()
        {
            if (!blank)
            {
                cells.Add(cell.ToString());
                records.Add(cells);
                cells = [];
            }

            cell.Clear();
            blank = true;
        }
    }

    /// <summary>An output as nested lists by its shape: [N] → values, [N, C] → one list per row.</summary>
    private static void WriteNested(Utf8JsonWriter writer, Tensor tensor)
    {
        var shape = tensor.Shape;
        var rows = shape.Length == 0 ? 1 : (int)shape[0];
        writer.WriteStartArray();
        for (var row = 0; row < rows; row++)
        {
            var slice = tensor.RowValues(row, 1);
            if (shape.Length <= 1)
            {
                TensorJson.WriteValues(writer, slice);
            }
            else
            {
                writer.WriteStartArray();
                TensorJson.WriteValues(writer, slice);
                writer.WriteEndArray();
            }
        }

        writer.WriteEndArray();
    }
}
