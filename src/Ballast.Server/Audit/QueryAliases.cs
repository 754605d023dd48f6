using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Ballast.Server.Audit;

/// <summary>
/// A route's query parameters under their documented snake_case names, each still read under the camelCase alias an
/// earlier release took. A parameter given both ways must say the same thing; otherwise the request is refused with
/// every disagreement named (<see cref="Problems"/>).
/// </summary>
internal sealed class QueryAliases(IQueryCollection query)
{
    private readonly List<string> problems = [];

    public IReadOnlyList<string> Problems => problems;

    /// <summary>The value under <paramref name="name"/> (already bound as <paramref name="bound"/>) or else under <paramref name="alias"/>.</summary>
    public string? Text(string name, string alias, string? bound) =>
        query.TryGetValue(alias, out var aliased) && Agrees(name, alias, aliased.ToString()) ? bound ?? NullIfEmpty(aliased.ToString()) : bound;

    /// <summary>An integer under <paramref name="name"/> (already bound as <paramref name="bound"/>) or else under <paramref name="alias"/>.</summary>
    public int? Integer(string name, string alias, int? bound)
    {
        if (!query.TryGetValue(alias, out var aliased) || !Agrees(name, alias, aliased.ToString()) || bound is not null || aliased.ToString().Length == 0)
        {
            return bound;
        }

        if (int.TryParse(aliased.ToString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        problems.Add($"{alias} must be an integer, not '{aliased}'");
        return null;
    }

    private bool Agrees(string name, string alias, string aliased)
    {
        if (!query.TryGetValue(name, out var given) || string.Equals(given.ToString(), aliased, StringComparison.Ordinal))
        {
            return true;
        }

        problems.Add($"{name} is '{given}' but its alias {alias} is '{aliased}': give one of them");
        return false;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
