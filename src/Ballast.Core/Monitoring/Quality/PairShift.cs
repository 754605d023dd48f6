using System.Globalization;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// A column pair against an offset or a multiple of the other column, written <c>greater_than: {value: b, offset: 5}</c>
/// (a &gt; b + 5) or <c>greater_or_equal: {value: b, ratio: 1.2}</c> (a ≥ 1.2·b); both together are a ≥ ratio·b + offset.
/// Left out, <see cref="Offset"/> is 0 and <see cref="Ratio"/> 1; each is kept as written (null when not), so the suite is
/// written back as given. A shifted pair compares numbers only: a value that does not read as a number fails the row.
/// </summary>
public sealed record PairShift(double? Offset = null, double? Ratio = null)
{
    /// <summary>The right-hand side as text, for messages: <c>1.2 * 'b' + 5</c>.</summary>
    public string Describe(string other)
    {
        var text = Ratio is { } ratio ? string.Create(CultureInfo.InvariantCulture, $"{ratio} * '{other}'") : $"'{other}'";
        return Offset is { } offset
            ? text + (offset < 0 ? string.Create(CultureInfo.InvariantCulture, $" - {-offset}") : string.Create(CultureInfo.InvariantCulture, $" + {offset}"))
            : text;
    }

    /// <summary>ratio · <paramref name="other"/> + offset.</summary>
    public double Apply(double other) => ((Ratio ?? 1) * other) + (Offset ?? 0);

    internal void Validate(string path, List<string> problems)
    {
        if (Ratio is 0)
        {
            problems.Add($"{path}.ratio: 0 compares the column with a constant, not with the other column; give a ratio other than 0 (or use min, max)");
        }
    }
}
