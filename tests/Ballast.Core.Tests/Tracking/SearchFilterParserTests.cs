using Ballast.Tracking;
using Ballast.Tracking.Search;

namespace Ballast.Tests.Tracking;

/// <summary>The filter grammar of mlflow.search_runs / search_experiments (MLflow docs, "Search Runs" syntax).</summary>
public sealed class SearchFilterParserTests
{
    [Fact]
    public void The_documented_example_parses_into_its_clauses()
    {
        var clauses = SearchFilterParser.Parse("metrics.acc > 0.9 and params.model = 'lgbm' and tags.team = \"x\" AND attributes.status = 'FINISHED'");

        clauses.ShouldBe([
            new SearchClause(SearchKeyKind.Metric, "acc", ">", SearchValue.OfNumber(0.9)),
            new SearchClause(SearchKeyKind.Param, "model", "=", SearchValue.OfText("lgbm")),
            new SearchClause(SearchKeyKind.Tag, "team", "=", SearchValue.OfText("x")),
            new SearchClause(SearchKeyKind.Attribute, "status", "=", SearchValue.OfText("FINISHED")),
        ]);
    }

    [Fact]
    public void Backquoted_keys_hold_spaces_and_dots()
    {
        var clause = SearchFilterParser.Parse("metrics.`f1 score.v2` <= -1e-3").ShouldHaveSingleItem();
        clause.Key.ShouldBe("f1 score.v2");
        clause.Comparator.ShouldBe("<=");
        clause.Value.Number.ShouldBe(-0.001);
    }

    [Fact]
    public void In_and_not_in_take_lists_of_strings()
    {
        var clauses = SearchFilterParser.Parse("attributes.run_id IN ('a', \"b\") and tags.x NOT  IN ('it''s')");
        clauses[0].Value.List.ShouldBe(["a", "b"]);
        clauses[1].Comparator.ShouldBe("NOT IN");
        clauses[1].Value.List.ShouldBe(["it's"]);
    }

    [Theory]
    [InlineData("name like 'a%'", "LIKE")]
    [InlineData("name ILike 'a%'", "ILIKE")]
    [InlineData("name != 'a'", "!=")]
    public void Comparators_are_case_insensitive_words_or_symbols(string filter, string comparator) =>
        SearchFilterParser.Parse(filter).ShouldHaveSingleItem().Comparator.ShouldBe(comparator);

    [Theory]
    [InlineData("", 0)]
    [InlineData("   ", 0)]
    public void An_empty_filter_matches_everything(string filter, int count) =>
        SearchFilterParser.Parse(filter).Count.ShouldBe(count);

    [Theory]
    [InlineData("metrics.acc", "expected a comparator")]
    [InlineData("metrics.acc > ", "needs a value")]
    [InlineData("metrics.acc > high", "must be a number or a quoted string")]
    [InlineData("name = 'open", "is not closed")]
    [InlineData("foo.bar = 'x'", "'foo' is not a key type")]
    [InlineData("name = 'a' or name = 'b'", "expected AND")]
    [InlineData("tags.x IN 'a'", "parenthesised list")]
    public void Malformed_filters_say_what_is_wrong(string filter, string reason)
    {
        var error = Should.Throw<TrackingException>(() => SearchFilterParser.Parse(filter));
        error.Code.ShouldBe("INVALID_PARAMETER_VALUE");
        error.Message.ShouldStartWith($"Invalid filter '{filter}'");
        error.Message.ShouldContain(reason);
    }
}
