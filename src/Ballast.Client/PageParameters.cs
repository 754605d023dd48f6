namespace Ballast.Client;

/// <summary>
/// How a paged route names its page size and page token in a request, and the next page's token in its answer (absent,
/// null or empty on the last page).
/// </summary>
public sealed record PageParameters(string MaxResults, string PageToken, string NextPageToken = "next_page_token")
{
    /// <summary>MLflow's searches: <c>max_results</c> and <c>page_token</c>, in the query of a GET or the body of a POST.</summary>
    public static PageParameters Mlflow { get; } = new("max_results", "page_token");

    /// <summary>
    /// Ballast's own paged lists (the audit trail): the same names as <see cref="Mlflow"/>, <c>max_results</c> and
    /// <c>page_token</c> in the query (the camelCase names of the first release are still read by the server, as aliases).
    /// </summary>
    public static PageParameters Ballast => Mlflow;

    /// <summary>Lists paged by id, newest first (a monitor's windows, a rollout's analyses): <c>limit</c>, <c>before</c>, <c>next_before</c>.</summary>
    public static PageParameters Before { get; } = new("limit", "before", "next_before");
}
