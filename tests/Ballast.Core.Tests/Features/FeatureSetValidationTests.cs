using System.Text.Json;
using Ballast.Features;
using Ballast.Tracking;

namespace Ballast.Tests.Features;

/// <summary>Feature set validation lists every problem at once; on-demand expressions parse, evaluate and translate to SQL alike.</summary>
public sealed class FeatureSetValidationTests
{
    [Fact]
    public void Every_problem_of_a_set_is_named_at_once()
    {
        var spec = new FeatureSetSpec("churn",
            [new EntitySpec("customer", "customer id", "uuid")],
            [
                new FeatureViewSpec("stats", "client", new FeatureSourceSpec("events@0"), "event_time",
                    [new FeatureSpec("spend", "decimal"), new FeatureSpec("orders", "int64", Default: JsonDocument.Parse("1.5").RootElement), new FeatureSpec("spend", "double")], "30 days"),
            ],
            [
                new FeatureServiceSpec("churn_v1", ["stats:spend", "stats:visits", "other:*", "stats"], [new OnDemandFeatureSpec("ratio", "int64", "spend / (orders")]),
            ]);

        var error = Should.Throw<TrackingException>(() => FeatureSetValidation.Validate(spec));

        error.Message.ShouldBe("Invalid feature set 'churn': entities[0].join_key 'customer id' must be a column name (letters, digits, '_'); entities[0].type 'uuid' is not one of string, int64; "
            + "view 'stats': entity 'client' is not one of the set's entities (customer); view 'stats': source.dataset '0' in 'events@0' is not a version: use a positive number or 'latest'; "
            + "view 'stats': ttl '30 days' is not a duration such as 90s, 30m, 12h, 30d or 2w; view 'stats': feature 'spend' type 'decimal' is not one of float, double, int64, string, bool; "
            + "view 'stats': feature 'orders' default 1.5 is not an int64; view 'stats': feature name 'spend' must be a new column-like name (letters, digits, '_'); "
            + "service 'churn_v1': view 'stats' has no feature 'visits'; service 'churn_v1': 'other:*' names view 'other', which the set does not declare; "
            + "service 'churn_v1': 'stats' is not view:feature or view:*; service 'churn_v1': on_demand 'ratio' type 'int64' must be float or double (expressions are arithmetic); "
            + "service 'churn_v1': on_demand 'ratio' expression: '(' at position 9 is not closed.");
    }

    [Fact]
    public void Stream_sources_are_validated_with_every_problem_named()
    {
        var spec = new FeatureSetSpec("streams", [new EntitySpec("customer", "customer_id")],
        [
            new FeatureViewSpec("none", "customer", new FeatureSourceSpec(), null, [new FeatureSpec("a", "double")]),
            new FeatureViewSpec("both", "customer", new FeatureSourceSpec("events", Kpi: "revenue"), "at", [new FeatureSpec("a", "double")]),
            new FeatureViewSpec("log", "customer", new FeatureSourceSpec(Endpoint: "Churn"), "at", [new FeatureSpec("a", "double", "p[x]"), new FeatureSpec("b", "double", "output.p[1]")]),
            new FeatureViewSpec("kpi", "customer", new FeatureSourceSpec(Kpi: "revenue", EntityColumn: "customer_id"), null, [new FeatureSpec("a", "double", "amount"), new FeatureSpec("b", "double", "value")]),
            new FeatureViewSpec("data", "customer", new FeatureSourceSpec("events", EntityColumn: "customer_id"), null, [new FeatureSpec("a", "double")]),
        ]);

        var error = Should.Throw<TrackingException>(() => FeatureSetValidation.Validate(spec));

        error.Message.ShouldBe("Invalid feature set 'streams': view 'none': source names nothing; give one of dataset (name@version or name), endpoint (its prediction log, with entity_column) or kpi (a KPI stream); "
            + "view 'both': source gives source.dataset and source.kpi; give exactly one; "
            + "view 'log': source.endpoint 'Churn' is not an endpoint name (1 to 63 lowercase letters, digits or '-', starting with a letter); "
            + "view 'log': source.entity_column '' must name the input that holds the entity key in the requests of endpoint 'Churn'; "
            + "view 'log': timestamp 'at' is for dataset sources; the prediction log's event time is each prediction's timestamp, so leave timestamp out; "
            + "view 'log': feature 'a' column 'p[x]' is not an input or output of the prediction log: write NAME, input.NAME or output.NAME, with [i] for element i of a wider tensor; "
            + "view 'kpi': source.entity_column is for endpoint sources; a KPI stream is keyed by each value's entity field; "
            + "view 'kpi': feature 'a' column 'amount' is not a column of a KPI stream; its only column is 'value' (the default); "
            + "view 'data': source.entity_column is for endpoint sources; a dataset's rows are keyed by the entity's join_key column; "
            + "view 'data': timestamp '' must name the source's event-time column.");
    }

    [Fact]
    public void A_valid_set_gets_its_defaults_and_resolves_into_the_catalog()
    {
        var spec = FeatureSetValidation.Validate(new FeatureSetSpec("churn", [new EntitySpec("customer", "customer_id")],
            [new FeatureViewSpec("stats", "customer", new FeatureSourceSpec("events"), "event_time", [new FeatureSpec("spend", "double"), new FeatureSpec("orders", "int64")], "2w")],
            [new FeatureServiceSpec("churn_v1", ["stats:*"], [new OnDemandFeatureSpec("per_order", "double", "spend / orders")])]));

        spec.Entities!.ShouldHaveSingleItem().Type.ShouldBe("string");
        var service = new FeatureCatalog([spec]).Service("churn_v1");
        service.JoinKey.ShouldBe("customer_id");
        service.Names.ShouldBe(["spend", "orders", "per_order"]);
        service.ByView.ShouldHaveSingleItem().View.Ttl.ShouldBe(TimeSpan.FromDays(14));
    }

    [Theory]
    [InlineData("1d12h", null)]
    [InlineData("100000w", null)] // the longest the grammar before Durations took: still taken
    [InlineData(" 30d", null)]
    [InlineData("0s", "ttl '0s' is not a duration such as 90s, 30m, 12h, 30d or 2w")]
    [InlineData("-1d", "ttl '-1d' is not a duration such as 90s, 30m, 12h, 30d or 2w")]
    [InlineData("100001w", "ttl '100001w' is longer than 700000d; leave ttl out for values that never expire")]
    [InlineData("99999999999999d", "ttl '99999999999999d' is not a duration such as 90s, 30m, 12h, 30d or 2w")]
    public void A_ttl_is_a_positive_duration_of_at_most_100000_weeks(string ttl, string? problem)
    {
        var spec = new FeatureSetSpec("churn", [new EntitySpec("customer", "customer_id")],
            [new FeatureViewSpec("stats", "customer", new FeatureSourceSpec("events"), "event_time", [new FeatureSpec("spend", "double")], ttl)]);
        if (problem is null)
        {
            new FeatureCatalog([FeatureSetValidation.Validate(spec)]).View("stats").Ttl.ShouldBe(Durations.Parse(ttl));
        }
        else
        {
            Should.Throw<TrackingException>(() => FeatureSetValidation.Validate(spec)).Message.ShouldBe($"Invalid feature set 'churn': view 'stats': {problem}.");
        }
    }

    [Theory]
    [InlineData("1 + 2 * 3", 7.0)]
    [InlineData("(1 + 2) * 3", 9.0)]
    [InlineData("-a / b", -0.5)]
    [InlineData("a - -b", 3.0)]
    [InlineData("a / zero", null)]
    [InlineData("a * missing", null)]
    [InlineData("10 / 4 - .5", 2.0)]
    public void Expressions_evaluate_with_precedence_and_missing_values(string text, double? expected)
    {
        var values = new Dictionary<string, double> { ["a"] = 1, ["b"] = 2, ["zero"] = 0 };

        var expression = OnDemandExpression.Parse(text);

        expression.Evaluate(name => values.TryGetValue(name, out var value) ? value : null).ShouldBe(expected);
    }

    [Fact]
    public void Expressions_translate_to_sql_with_the_same_arithmetic()
    {
        var expression = OnDemandExpression.Parse("spend / (orders - 1) * 2");

        expression.Names.ShouldBe(["spend", "orders"]);
        expression.Sql.ShouldBe("((CAST(\"spend\" AS DOUBLE) / NULLIF((CAST(\"orders\" AS DOUBLE) - 1::DOUBLE), 0)) * 2::DOUBLE)");
    }

    [Theory]
    [InlineData("a +", "the expression ends where a number, a name or '(' should be")]
    [InlineData("a $ b", "unexpected '$' at position 3")]
    [InlineData("1.2.3", "'1.2.3' at position 1 is not a number")]
    public void Malformed_expressions_say_where(string text, string message) =>
        Should.Throw<FormatException>(() => OnDemandExpression.Parse(text)).Message.ShouldBe(message);
}
