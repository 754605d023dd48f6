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
        var mediaType = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        // With a feature service the columns are the entity key and the request-time fields, not the model's inputs.
        var signature = Features.ServingFeatures.RequestSignature(endpoint, http) ?? endpoint.Variants[0].Model.Runtime.Signature;
        IReadOnlyList<Tensor> inputs;
        if (mediaType == "text/csv")
        {
            using var reader = new StreamReader(http.Request.Body);
            inputs = FromTable(signature, ReadCsv(await reader.ReadToEndAsync(http.RequestAborted).ConfigureAwait(false)));
        }
        else if (mediaType == "application/json")
        {
            using var document = await InferenceApi.ReadJsonAsync(http).ConfigureAwait(false);
            inputs = FromJson(signature, document.RootElement);
        }
        else
        {
            await Errors.ErrorResponses.WriteAsync(http, StatusCodes.Status415UnsupportedMediaType, "BAD_REQUEST",
                $"Content type '{http.Request.ContentType}' is not supported; send application/json (dataframe_split, dataframe_records, instances or inputs) or text/csv.").ConfigureAwait(false);
            return;
        }

        var enriched = await Features.ServingFeatures.EnrichAsync(endpoint, http, inputs).ConfigureAwait(false);
        var flagged = ServingExpectations.Check(endpoint, http, enriched.Model);
        var scored = await InferenceApi.ScoreAsync(endpoint, null, http, enriched.Model, null, time).ConfigureAwait(false);
        await InferenceApi.LogAsync(log, endpoint, scored, enriched.Logged, time, http.RequestAborted, flagged).ConfigureAwait(false);
        ShadowTraffic.AfterResponse(http, endpoint, scored, enriched.Model, log, time);
        http.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter.AsStream());
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
                if (!payload.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                {
                    throw TrackingException.Invalid("dataframe_split needs 'data', a list of rows (and 'columns').");
                }

                var columns = payload.TryGetProperty("columns", out var names) && names.ValueKind == JsonValueKind.Array
                    ? names.EnumerateArray().Select(column => column.ToString()).ToList()
                    : Enumerable.Range(0, data.EnumerateArray().FirstOrDefault().ValueKind == JsonValueKind.Array ? data[0].GetArrayLength() : 0).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
                return FromTable(signature, new Table(columns, data.EnumerateArray().Select(row => Row(row, columns.Count)).ToList()));
            case "dataframe_records":
                return FromRecords(signature, payload, "dataframe_records");
            case "instances" when payload.ValueKind == JsonValueKind.Array && payload.GetArrayLength() > 0 && payload[0].ValueKind == JsonValueKind.Object:
                return FromRecords(signature, payload, "instances");
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

    /// <summary><c>inputs</c> or <c>instances</c> as tensors: an object of input name → nested list, or one nested list for a one-input model.</summary>
    private static List<Tensor> FromTensors(ModelSignature signature, JsonElement payload, string format)
    {
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

        throw new ModelInputException($"the columns ({string.Join(", ", table.Columns)}) do not name the model's inputs ({string.Join(", ", signature.Inputs.Select(input => $"'{input.Name}' {input}"))})");
    }

    private static Array Cells(TensorSpec spec, List<JsonElement> cells)
    {
        // Cells parsed from CSV are strings; numbers are read from them by the input's datatype.
        var values = cells.Select(cell => cell.ValueKind == JsonValueKind.String && spec.Datatype != TensorDatatypes.Bytes
            ? JsonDocument.Parse(NumberText(cell.GetString()!)).RootElement
            : cell).ToList();
        using var document = JsonDocument.Parse($"{{\"name\":{JsonSerializer.Serialize(spec.Name, Serialization.ServerJsonContext.Default.String)},\"datatype\":\"{spec.Datatype}\",\"shape\":[{values.Count}],\"data\":[{string.Join(",", values.Select(value => value.ValueKind == JsonValueKind.Undefined ? "null" : value.GetRawText()))}]}}");
        var tensor = V2Codec.ReadTensor(document.RootElement);
        return tensor.Data;
    }

    private static string NumberText(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? text : text is "true" or "false" ? text : JsonSerializer.Serialize(text, Serialization.ServerJsonContext.Default.String);

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
        var lines = text.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0).ToList();
        if (lines.Count == 0)
        {
            throw TrackingException.Invalid("The CSV body is empty; send a header row and one row per prediction.");
        }

        var columns = SplitCsv(lines[0]);
        var rows = lines.Skip(1).Select((line, i) =>
        {
            var cells = SplitCsv(line);
            return cells.Count == columns.Count
                ? (IReadOnlyList<JsonElement>)cells.Select(cell => JsonDocument.Parse(JsonSerializer.Serialize(cell, Serialization.ServerJsonContext.Default.String)).RootElement).ToList()
                : throw TrackingException.Invalid($"CSV row {i + 1} has {cells.Count} cells; the header has {columns.Count}.");
        }).ToList();
        return new Table(columns, rows);
    }

    /// <summary>One CSV line (RFC 4180 quoting).</summary>
    private static List<string> SplitCsv(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
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
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString());
        return cells;
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
