using Ballast.Tracking;

namespace Ballast.Registry;

/// <summary>
/// A <c>models:/</c> URI as MLflow parses it (mlflow/store/artifact/utils/models.py <c>_parse_model_uri</c>): a logged
/// model (<c>models:/&lt;model_id&gt;</c>), or a registered model's version (<c>models:/NAME/VERSION</c>), alias
/// (<c>models:/NAME@ALIAS</c>), latest version (<c>models:/NAME/latest</c>) or latest version in a stage
/// (<c>models:/NAME/STAGE</c>).
/// </summary>
internal sealed record ModelsUri(string? ModelId, string? Name = null, string? Version = null, string? Stage = null, string? Alias = null)
{
    private const string Scheme = "models:/";

    /// <summary>The URI's parts; null when <paramref name="source"/> is not a <c>models:/</c> URI; INVALID_PARAMETER_VALUE when it is one of no form above.</summary>
    public static ModelsUri? Parse(string source)
    {
        if (!source.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = source[Scheme.Length..].Trim('/');
        var parts = rest.Split('/');
        if (rest.Length == 0 || parts.Length > 2 || parts[0].Trim().Length == 0)
        {
            throw Improper(source);
        }

        if (parts.Length == 2)
        {
            var (name, suffix) = (parts[0], parts[1]);
            if (suffix.Trim().Length == 0)
            {
                throw Improper(source);
            }

            return suffix.All(char.IsAsciiDigit) ? new ModelsUri(null, name, Version: suffix)
                : string.Equals(suffix, "latest", StringComparison.OrdinalIgnoreCase) ? new ModelsUri(null, name)
                : new ModelsUri(null, name, Stage: suffix);
        }

        var at = rest.LastIndexOf('@');
        if (at < 0)
        {
            return new ModelsUri(rest);
        }

        return at == 0 || at == rest.Length - 1 || rest[..at].Trim().Length == 0 || rest[(at + 1)..].Trim().Length == 0
            ? throw Improper(source)
            : new ModelsUri(null, rest[..at], Alias: rest[(at + 1)..]);
    }

    private static TrackingException Improper(string source) => TrackingException.Invalid(
        $"Invalid model version source: not a proper models:/ URI: '{source}'. Models URIs must be of the form 'models:/<model_id>', 'models:/<model_name>/<version, stage or latest>' " +
        "or 'models:/<model_name>@<alias>'.");
}
