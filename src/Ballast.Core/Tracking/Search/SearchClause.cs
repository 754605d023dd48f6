namespace Ballast.Tracking.Search;

/// <summary>What a search key refers to: <c>attributes.x</c> (or a bare name), <c>tags.x</c>, <c>params.x</c>, <c>metrics.x</c>, <c>datasets.x</c>.</summary>
public enum SearchKeyKind
{
    Attribute,
    Tag,
    Param,
    Metric,
    Dataset,
}

/// <summary>One comparison of an MLflow filter, e.g. <c>metrics.acc &gt; 0.9</c>. A filter is a conjunction of these.</summary>
public sealed record SearchClause(SearchKeyKind Kind, string Key, string Comparator, SearchValue Value);

/// <summary>The right-hand side: a string, a number, or a parenthesised list of strings (for IN / NOT IN).</summary>
public sealed record SearchValue(string? Text, double? Number, IReadOnlyList<string>? List)
{
    public static SearchValue OfText(string text) => new(text, null, null);

    public static SearchValue OfNumber(double number) => new(null, number, null);

    public static SearchValue OfList(IReadOnlyList<string> list) => new(null, null, list);
}
