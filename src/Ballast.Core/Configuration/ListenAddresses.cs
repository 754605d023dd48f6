using System.Net;

namespace Ballast.Configuration;

/// <summary>Parsing of the --listen value: one or more http(s) URLs separated by commas or semicolons.</summary>
public static class ListenAddresses
{
    public static IReadOnlyList<Uri> Parse(string listen) =>
        Split(listen).Select(value => new Uri(value, UriKind.Absolute)).ToList();

    public static IEnumerable<string> Validate(string listen)
    {
        var values = Split(listen);
        if (values.Count == 0)
        {
            yield return "must name at least one URL, e.g. http://127.0.0.1:5000";
            yield break;
        }

        foreach (var value in values)
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                yield return $"'{value}' is not an http:// or https:// URL";
            }
            else if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
            {
                yield return $"'{value}' must not have a path; give scheme, host and port only";
            }
        }
    }

    /// <summary>True when every address is a loopback address (127.0.0.0/8, ::1 or localhost), so only this machine can connect.</summary>
    public static bool AreLoopbackOnly(string listen) => Parse(listen).All(IsLoopback);

    public static bool IsLoopback(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    private static List<string> Split(string listen) =>
        (listen ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
