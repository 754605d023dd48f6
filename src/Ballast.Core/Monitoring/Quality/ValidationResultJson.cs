using System.Text;
using System.Text.Json;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// The result of <c>ballast validate</c> as JSON: <c>{"success", "rows", "expectations": [{"column", "expectation",
/// "success", "observed", "unexpected_count", "unexpected_percent", "examples"}]}</c>, with <c>"mostly"</c> after
/// <c>unexpected_percent</c> when the column's <c>mostly</c> relaxed the expectation. A <c>quantiles</c> result's
/// <c>observed</c> is an object, as Great Expectations' <c>observed_value</c>: <c>{"quantiles": [0.05, 0.5], "values": [1, 3],
/// "success": [true, false]}</c> (the last is GE's <c>success_details</c>).
/// </summary>
public static class ValidationResultJson
{
    public static string Write(ValidationResult result, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("success", result.Success);
            writer.WriteNumber("rows", result.Rows);
            writer.WriteStartArray("expectations");
            foreach (var expectation in result.Expectations)
            {
                writer.WriteStartObject();
                if (expectation.Column.Length == 0)
                {
                    writer.WriteNull("column");
                }
                else
                {
                    writer.WriteString("column", expectation.Column);
                }

                writer.WriteString("expectation", expectation.Expectation);
                writer.WriteBoolean("success", expectation.Success);
                if (expectation.ObservedText is { } text)
                {
                    writer.WriteString("observed", text);
                }
                else if (expectation.Quantiles is { } quantiles)
                {
                    // As GE's observed_value: {"quantiles": [...], "values": [...]}, with each quantile's verdict (its success_details).
                    writer.WriteStartObject("observed");
                    writer.WriteStartArray("quantiles");
                    foreach (var quantile in quantiles)
                    {
                        writer.WriteNumberValue(quantile.Quantile);
                    }

                    writer.WriteEndArray();
                    writer.WriteStartArray("values");
                    foreach (var quantile in quantiles)
                    {
                        if (quantile.Text is { } time)
                        {
                            writer.WriteStringValue(time);
                        }
                        else if (quantile.Value is { } value && double.IsFinite(value))
                        {
                            writer.WriteNumberValue(value);
                        }
                        else
                        {
                            writer.WriteNullValue();
                        }
                    }

                    writer.WriteEndArray();
                    writer.WriteStartArray("success");
                    foreach (var quantile in quantiles)
                    {
                        writer.WriteBooleanValue(quantile.Success);
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
                else if (expectation.ObservedValues is { } values)
                {
                    // As GE's observed_value of most_common_value: the values tied for most common.
                    writer.WriteStartArray("observed");
                    foreach (var value in values)
                    {
                        writer.WriteStringValue(value);
                    }

                    writer.WriteEndArray();
                }
                else if (expectation.Observed is { } observed && double.IsFinite(observed))
                {
                    writer.WriteNumber("observed", observed);
                }
                else
                {
                    writer.WriteNull("observed");
                }

                writer.WriteNumber("unexpected_count", expectation.UnexpectedCount);
                writer.WriteNumber("unexpected_percent", Math.Round(expectation.UnexpectedPercent, 6));
                if (expectation.Mostly is { } mostly)
                {
                    writer.WriteNumber("mostly", mostly);
                }

                writer.WriteStartArray("examples");
                foreach (var example in expectation.Examples)
                {
                    writer.WriteStringValue(example);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A Markdown summary: the verdict and a table of expectations, failures first.</summary>
    public static string Markdown(ValidationResult result, string source)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        text.Append("# Data quality: ").Append(source).Append("\n\n");
        text.Append(result.Success ? "**Passed**" : $"**Failed**: {result.Failed} of {result.Expectations.Count} expectations")
            .Append(System.Globalization.CultureInfo.InvariantCulture, $" over {result.Rows} rows.\n\n");
        text.Append("| column | expectation | result | observed | unexpected | examples |\n| --- | --- | --- | --- | --- | --- |\n");
        foreach (var e in result.Expectations.OrderBy(e => e.Success))
        {
            var observed = e.ObservedText
                ?? (e.Quantiles is { } quantiles ? string.Join(", ", quantiles.Select(q => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"q{q.Quantile:0.####} = {q.Text ?? (q.Value is { } v ? v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) : "none")}{(q.Success ? "" : " (out of range)")}")))
                : e.ObservedValues is { } values ? string.Join(", ", values)
                : e.Observed is { } value ? value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) : "");
            text.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"| {(e.Column.Length == 0 ? "(table)" : Cell(e.Column))} | {e.Expectation} | {(e.Success ? "pass" : "FAIL")}{(e.Mostly is { } mostly ? $" (mostly {mostly:0.####})" : "")} | {Cell(observed)} | {e.UnexpectedCount} ({e.UnexpectedPercent:0.##} %) | {Cell(string.Join(", ", e.Examples))} |\n");
        }

        return text.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
