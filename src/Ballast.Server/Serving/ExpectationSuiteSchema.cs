using System.Text.Json.Nodes;
using Ballast.Monitoring.Quality;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ballast.Server.Serving;

/// <summary>
/// The OpenAPI schema of <see cref="ExpectationSuite"/>, which has its own JSON converter (so that every problem is
/// reported, not dropped) and would otherwise be described as any value: <c>{"columns": {NAME: {type, required, …}}, "rows": {min, max}}</c>.
/// </summary>
internal sealed class ExpectationSuiteSchema : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(context);
        if (context.JsonTypeInfo.Type != typeof(ExpectationSuite))
        {
            return Task.CompletedTask;
        }

        var column = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "A column's expectations; a field left out is not checked (docs/quality.md).",
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = WithMostly(new OpenApiSchema { Type = JsonSchemaType.String, Enum = ColumnTypes.All.Select(type => (JsonNode)JsonValue.Create(type)).ToList() }),
                ["required"] = WithMostly(new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "No missing value; with a mostly of its own, at least that share of all rows present (batch and monitor windows)." }),
                ["min"] = WithMostly(NumberOrTime("Each present value is at least this")),
                ["max"] = WithMostly(NumberOrTime("Each present value is at most this")),
                ["allowed"] = WithMostly(new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Number | JsonSchemaType.Boolean } }),
                ["max_null_rate"] = new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = "0", Maximum = "1" },
                ["unique"] = WithMostly(new OpenApiSchema { Type = JsonSchemaType.Boolean }),
                ["regex"] = WithMostly(new OpenApiSchema { Type = JsonSchemaType.String }),
                ["greater_than"] = WithMostly(pair: true, plain: OtherColumns("each row's value is greater than that column's")),
                ["greater_or_equal"] = WithMostly(pair: true, plain: OtherColumns("each row's value is at least that column's")),
                ["equal_to"] = WithMostly(pair: true, plain: OtherColumns("each row's value equals that column's")),
                ["mean"] = Bounds("the mean of the present values"),
                ["median"] = Bounds("the median of the present values (the mean of the two middle ones for an even count; for dates or times, bounds as ISO-8601 text)", times: true),
                ["stdev"] = Bounds("the sample standard deviation (ddof = 1) of the present values"),
                ["sum"] = Bounds("the sum of the present values"),
                ["unique_proportion"] = Bounds("distinct present values / present values"),
                ["distinct_count"] = Bounds("the number of distinct present values"),
                ["quantiles"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "Each quantile (percentile_disc) of the present values within its [min, max] (null for no bound); batch and monitor windows, refused in an endpoint's suite.",
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["quantiles"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = "0", Maximum = "1" }, MinItems = 1 },
                        ["value_ranges"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Array,
                            Description = "One [min, max] per quantile: numbers, or for a column of dates or times ISO-8601 dates or times; null for no bound.",
                            Items = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Array,
                                Items = new OpenApiSchema { AnyOf = [new OpenApiSchema { Type = JsonSchemaType.Number | JsonSchemaType.Null }, IsoTime()] },
                                MinItems = 2,
                                MaxItems = 2,
                            },
                        },
                        ["allow_relative_error"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Number,
                            Minimum = "0",
                            Maximum = "1",
                            Description = "The rank error allowed (a share of the present values, as Spark's approxQuantile relativeError): a quantile holds when a value of rank floor((q - e) n) … ceil((q + e) n) is within its range.",
                        },
                    },
                    Required = new HashSet<string> { "quantiles", "value_ranges" },
                    AdditionalPropertiesAllowed = false,
                },
                ["most_common_value"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "The most common present value (every value tied for it) is in value_set; with ties_okay any tied value may be. Batch and monitor windows, refused in an endpoint's suite.",
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["value_set"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Number | JsonSchemaType.Boolean }, MinItems = 1 },
                        ["ties_okay"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
                    },
                    Required = new HashSet<string> { "value_set" },
                    AdditionalPropertiesAllowed = false,
                },
                ["ignore_row_if"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = IgnoreRowIf.All.Select(mode => (JsonNode)JsonValue.Create(mode)).ToList() },
                ["mostly"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Number,
                    Minimum = "0",
                    Maximum = "1",
                    Description = "The share of checked rows each row-level expectation of the column must hold for (batch and monitor windows; refused in an endpoint's suite).",
                },
            },
            AdditionalPropertiesAllowed = false,
        };
        schema.Type = JsonSchemaType.Object;
        schema.Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["columns"] = new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = column },
            ["rows"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "The table's row count, inclusive bounds (batch and monitor windows; refused in an endpoint's suite).",
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["min"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0" },
                    ["max"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0" },
                },
                AdditionalPropertiesAllowed = false,
            },
        };
        schema.Properties["multicolumn"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Array,
            Description = "Expectations over several columns of each row: sum_to_equal (the values add up to it; also at serving), unique_within_record: true (no two of the row's values are equal; also at serving) or unique: true (the combination is unique across rows; batch and monitor windows only).",
            Items = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["columns"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String }, MinItems = 2 },
                    ["sum_to_equal"] = new OpenApiSchema { Type = JsonSchemaType.Number },
                    ["unique"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
                    ["unique_within_record"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "No two of the row's values of the columns are equal (also at serving)." },
                    ["ignore_row_if"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = MulticolumnExpectation.IgnoreModes.Select(mode => (JsonNode)JsonValue.Create(mode)).ToList() },
                    ["mostly"] = new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = "0", Maximum = "1" },
                },
                Required = new HashSet<string> { "columns" },
                AdditionalPropertiesAllowed = false,
            },
        };
        schema.AdditionalPropertiesAllowed = false;
        return Task.CompletedTask;
    }

    /// <summary>A column pair's other column, or a list of other columns (each its own expectation, named <c>KIND[OTHER]</c>).</summary>
    private static OpenApiSchema OtherColumns(string meaning) => new()
    {
        Description = $"Another column: {meaning}; or a list of other columns, each checked (and reported) on its own.",
        AnyOf =
        [
            new OpenApiSchema { Type = JsonSchemaType.String },
            new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String }, MinItems = 1 },
        ],
    };

    /// <summary>An ISO-8601 date or date-time, with or without an offset (<c>2024-01-31</c>, <c>2024-01-31T12:00:00Z</c>).</summary>
    private static OpenApiSchema IsoTime() => new()
    {
        Type = JsonSchemaType.String,
        Pattern = @"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$",
        Description = "An ISO-8601 date or date-time (an offset, Z or +02:00, makes it an instant; without one it is read as UTC), for a column of dates or times.",
    };

    /// <summary>A bound that is a number, or an ISO-8601 date or time for a column of dates or times (batch and monitor windows only).</summary>
    private static OpenApiSchema NumberOrTime(string meaning) => new()
    {
        Description = $"{meaning}: a number; or, for a column of dates or times, an ISO-8601 date or time (batch and monitor windows only, refused in an endpoint's suite).",
        AnyOf = [new OpenApiSchema { Type = JsonSchemaType.Number }, IsoTime()],
    };

    /// <summary>A column aggregate's bounds, <c>{min, max, strict_min, strict_max}</c> (batch and monitor windows; refused in an endpoint's suite).</summary>
    private static OpenApiSchema Bounds(string value, bool times = false) => new()
    {
        Type = JsonSchemaType.Object,
        Description = $"Bounds of {value}, inclusive unless strict; batch and monitor windows, refused in an endpoint's suite.",
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["min"] = times ? new OpenApiSchema { AnyOf = [new OpenApiSchema { Type = JsonSchemaType.Number }, IsoTime()] } : new OpenApiSchema { Type = JsonSchemaType.Number },
            ["max"] = times ? new OpenApiSchema { AnyOf = [new OpenApiSchema { Type = JsonSchemaType.Number }, IsoTime()] } : new OpenApiSchema { Type = JsonSchemaType.Number },
            ["strict_min"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
            ["strict_max"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
        },
        AdditionalPropertiesAllowed = false,
    };

    /// <summary>
    /// An expectation's value alone, or <c>{"value": …, "mostly": …}</c> with a mostly of its own; a column pair's object
    /// also takes <c>offset</c> and <c>ratio</c> (the column against ratio · other + offset).
    /// </summary>
    private static OpenApiSchema WithMostly(OpenApiSchema plain, bool pair = false) => new()
    {
        Description = plain.Description,
        AnyOf =
        [
            plain,
            new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "The expectation with a mostly of its own, overriding the column's (batch and monitor windows; refused in an endpoint's suite).",
                Properties = pair
                    ? new Dictionary<string, IOpenApiSchema>
                    {
                        ["value"] = plain,
                        ["mostly"] = new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = "0", Maximum = "1" },
                        ["offset"] = new OpenApiSchema { Type = JsonSchemaType.Number, Description = "Added to the other column: greater_than {value: b, offset: 5} is a > b + 5 (numbers only)." },
                        ["ratio"] = new OpenApiSchema { Type = JsonSchemaType.Number, Description = "Multiplies the other column: greater_or_equal {value: b, ratio: 1.2} is a >= 1.2 * b (numbers only; not 0)." },
                    }
                    : new Dictionary<string, IOpenApiSchema>
                    {
                        ["value"] = plain,
                        ["mostly"] = new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = "0", Maximum = "1" },
                    },
                Required = new HashSet<string> { "value" },
                AdditionalPropertiesAllowed = false,
            },
        ],
    };
}
