using System.Text.RegularExpressions;

namespace Ballast.Tracking;

/// <summary>MLflow's checks on keys, values and batch sizes (mlflow/utils/validation.py), with its messages.</summary>
public static partial class TrackingValidation
{
    public const int MaxParamValueLength = 6000;
    public const int MaxRunTagValueLength = 8000;
    public const int MaxParamsTagsPerBatch = 100;
    public const int MaxMetricsPerBatch = 1000;
    public const int MaxEntitiesPerBatch = 1000;

    private const string BadCharacters = "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).";

    public static void Key(string kind, string? key)
    {
        if (key is null)
        {
            throw TrackingException.Invalid($"{kind} name cannot be None. A key name must be provided.");
        }

        if (!ValidName().IsMatch(key))
        {
            throw TrackingException.Invalid($"Invalid {kind.ToLowerInvariant()} name: '{key}'. {BadCharacters}");
        }

        // A name must not resolve to another name when used as a file path (mlflow path_not_unique).
        var normalized = NormalizePath(key);
        if (normalized != key || normalized == "." || normalized.StartsWith("..", StringComparison.Ordinal) || normalized.StartsWith('/'))
        {
            throw TrackingException.Invalid($"Invalid {kind.ToLowerInvariant()} name: '{key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '{normalized}'");
        }

        Length($"{kind} key", TrackingLimits.MaxEntityKeyLength, key);
    }

    public static void Length(string what, int limit, string? value)
    {
        if (value is not null && value.Length > limit)
        {
            throw TrackingException.Invalid($"{what} '{value[..Math.Min(value.Length, 250)]}' had length {value.Length}, which exceeded length limit of {limit}");
        }
    }

    public static void Batch(int metrics, int parameters, int tags)
    {
        var problems = new List<string>();
        if (metrics > MaxMetricsPerBatch)
        {
            problems.Add($"A batch logging request can contain at most {MaxMetricsPerBatch} metrics. Got {metrics} metrics.");
        }

        if (parameters > MaxParamsTagsPerBatch)
        {
            problems.Add($"A batch logging request can contain at most {MaxParamsTagsPerBatch} params. Got {parameters} params.");
        }

        if (tags > MaxParamsTagsPerBatch)
        {
            problems.Add($"A batch logging request can contain at most {MaxParamsTagsPerBatch} tags. Got {tags} tags.");
        }

        if (metrics + parameters + tags > MaxEntitiesPerBatch)
        {
            problems.Add($"A batch logging request can contain at most {MaxEntitiesPerBatch} metrics, params and tags in total. Got {metrics + parameters + tags}.");
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid(string.Join(" ", problems));
        }
    }

    /// <summary>posixpath.normpath: collapses '//' and '.', resolves '..' where it can, keeps a leading '/'.</summary>
    private static string NormalizePath(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }

        var parts = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == ".." && parts.Count > 0 && parts[^1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
            }
            else if (!(segment == ".." && path.StartsWith('/')))
            {
                parts.Add(segment);
            }
        }

        var joined = string.Join('/', parts);
        return path.StartsWith('/') ? "/" + joined : joined.Length == 0 ? "." : joined;
    }

    [GeneratedRegex(@"^[/\w.\- ]*$")]
    private static partial Regex ValidName();
}
