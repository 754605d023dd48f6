using System.Text.Json.Nodes;

namespace Ballast.Tracking;

/// <summary>
/// The search a page token belongs to (<c>runs</c>, <c>model_versions</c>...) and the request parameters it is tied
/// to (those that decide which results there are and their order, not the page size), each with the sentence that
/// reports a token of another query.
/// </summary>
public sealed class PageTokenQuery(string search)
{
    internal const string SearchKey = "search";
    internal const string SearchMismatch = "Search in the page token does not match the requested search";
    internal const string LastKeyKey = "last_key";

    private readonly List<PageTokenPart> _parts = [];

    internal JsonValue Search { get; } = JsonValue.Create(search);

    internal IReadOnlyList<PageTokenPart> Parts => _parts;

    /// <param name="key">The token's field.</param>
    /// <param name="mismatch">What a differing value is reported as, e.g. <c>Datasets in the page token do not match the requested datasets</c>.</param>
    /// <param name="value">This request's value, normalized (an empty filter is null) so that equal queries compare equal.</param>
    public PageTokenQuery With(string key, string mismatch, JsonNode? value)
    {
        if (key is SearchKey or "offset" or LastKeyKey)
        {
            throw new ArgumentException($"'{key}' is the token's own field, not a query parameter.", nameof(key));
        }

        _parts.Add(new PageTokenPart(key, mismatch, value));
        return this;
    }

    /// <summary>A text parameter, as given (null and empty differ), reported as <c>Actor in the page token does not match the requested actor</c>.</summary>
    public PageTokenQuery WithText(string key, string? value) => With(key, Mismatch(key), value is null ? null : JsonValue.Create(value));

    /// <summary>The experiments searched, in the request's order, with MLflow's message.</summary>
    public PageTokenQuery WithExperimentIds(IEnumerable<string> experimentIds) =>
        With("experiment_ids", "Experiment IDs in the page token do not match the requested experiment IDs", new JsonArray([.. experimentIds.Select(id => JsonValue.Create(id))]));

    /// <summary>An MLflow filter string (empty is none), with MLflow's message.</summary>
    public PageTokenQuery WithFilter(string? filter, string key = "filter") =>
        With(key, "Filter string in the page token does not match the requested filter string", string.IsNullOrEmpty(filter) ? null : JsonValue.Create(filter));

    /// <summary>MLflow <c>order_by</c> clauses, in order (none is the default order), with MLflow's message.</summary>
    public PageTokenQuery WithOrderBy(IReadOnlyList<string>? orderBy) =>
        WithOrderBy(orderBy is { Count: > 0 } clauses ? new JsonArray([.. clauses.Select(clause => JsonValue.Create(clause))]) : null);

    /// <summary>Structured order clauses (logged models'), already as JSON; null is the default order.</summary>
    public PageTokenQuery WithOrderBy(JsonArray? orderBy) => With("order_by", "Order by in the page token does not match the requested order by", orderBy);

    /// <summary>Which lifecycle stages are searched, as MLflow names them (<c>ACTIVE_ONLY</c>, <c>DELETED_ONLY</c>, <c>ALL</c>).</summary>
    public PageTokenQuery WithViewType(ViewType viewType, string key = "view_type") => WithText(key, viewType switch
    {
        ViewType.DeletedOnly => "DELETED_ONLY",
        ViewType.All => "ALL",
        _ => "ACTIVE_ONLY",
    });

    // resource_type: "Resource type in the page token does not match the requested resource type".
    private static string Mismatch(string key)
    {
        var words = key.Replace('_', ' ');
        return $"{char.ToUpperInvariant(words[0])}{words[1..]} in the page token does not match the requested {words}";
    }
}

internal sealed record PageTokenPart(string Key, string Mismatch, JsonNode? Value);
