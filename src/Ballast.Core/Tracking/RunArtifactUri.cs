using System.Diagnostics.CodeAnalysis;

namespace Ballast.Tracking;

/// <summary>
/// A <c>runs:/RUN_ID/PATH</c> URI: an artifact of a run, named by the run's id and its path under the run's artifact root,
/// read as MLflow reads one (mlflow/store/artifact/runs_artifact_repo.py <c>RunsArtifactRepository.parse_runs_uri</c>).
/// The run id is the first segment of the path and must not be empty; the artifact path is the rest, as written (a
/// trailing <c>/</c> kept), and null when there is none (<c>runs:/RUN_ID</c>, <c>runs:/RUN_ID/</c>). An empty authority
/// is allowed (<c>runs:///RUN_ID/PATH</c>); a query or fragment is not part of the path.
/// </summary>
/// <remarks>
/// MLflow also takes an authority naming another tracking server (<c>runs://profile@databricks/RUN_ID/PATH</c>, a
/// Databricks profile); this server can only resolve its own runs, so such a URI is not parsed. The scheme is matched as
/// written, lower case.
/// </remarks>
public sealed record RunArtifactUri(string RunId, string? ArtifactPath)
{
    /// <summary>The scheme with its colon, which every <c>runs:/</c> URI starts with.</summary>
    public const string Scheme = "runs:";

    /// <summary>Whether <paramref name="uri"/> is in the <c>runs</c> scheme at all, well formed or not.</summary>
    public static bool HasScheme(string? uri) => uri is not null && uri.StartsWith(Scheme, StringComparison.Ordinal);

    /// <summary>
    /// Reads <paramref name="uri"/> as a <c>runs:/</c> URI; false for any other scheme, no path, an empty run id or an
    /// authority (another tracking server's run).
    /// </summary>
    public static bool TryParse(string? uri, [NotNullWhen(true)] out RunArtifactUri? result)
    {
        result = null;
        if (!HasScheme(uri))
        {
            return false;
        }

        var rest = uri.AsSpan(Scheme.Length);
        var end = rest.IndexOfAny('?', '#');
        if (end >= 0)
        {
            rest = rest[..end];
        }

        if (rest.StartsWith("//"))
        {
            // The authority runs to the next '/': only an empty one is this server's.
            var authority = rest[2..].IndexOf('/');
            if (authority != 0)
            {
                return false;
            }

            rest = rest[2..];
        }

        if (rest.Length <= 1 || rest[0] != '/')
        {
            return false;
        }

        rest = rest[1..];
        var slash = rest.IndexOf('/');
        var runId = slash < 0 ? rest : rest[..slash];
        if (runId.IsEmpty)
        {
            return false;
        }

        var path = slash < 0 ? ReadOnlySpan<char>.Empty : rest[(slash + 1)..];
        result = new RunArtifactUri(runId.ToString(), path.IsEmpty ? null : path.ToString());
        return true;
    }

    /// <summary>
    /// Where the artifact is under the run's <paramref name="artifactRoot"/> (its <c>artifact_uri</c>): the root itself
    /// without an artifact path, else the path below it, a trailing <c>/</c> of either dropped (<c>model/</c> is the
    /// folder <c>model</c>).
    /// </summary>
    public string Under(string artifactRoot)
    {
        ArgumentNullException.ThrowIfNull(artifactRoot);
        var root = artifactRoot.TrimEnd('/');
        return ArtifactPath?.TrimEnd('/') is { Length: > 0 } path ? root + "/" + path : root;
    }

    /// <summary>The URI in its plain form, <c>runs:/RUN_ID/PATH</c> (or <c>runs:/RUN_ID</c>).</summary>
    public override string ToString() => ArtifactPath is null ? $"{Scheme}/{RunId}" : $"{Scheme}/{RunId}/{ArtifactPath}";
}
