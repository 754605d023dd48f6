using System.Globalization;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// A bound written as an ISO-8601 date or date-time (<c>2024-01-31</c>, <c>2024-01-31T12:00:00</c>,
/// <c>2024-01-31T12:00:00.5+02:00</c>, a space in place of the <c>T</c> too), for a column of dates or times:
/// <see cref="Microseconds"/> since 1970-01-01T00:00:00, which is how the validator compares every date and time. A bound
/// with an offset (<c>Z</c>, <c>+02:00</c>) is its instant in UTC; one without is read as UTC (a <c>TIMESTAMP</c> column's
/// values are read the same way, so wall-clock times compare as written). <see cref="Text"/> is kept as written, and the
/// suite is written back with it.
/// </summary>
public sealed record TimeBound(string Text, long Microseconds)
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd",
        "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mmK", "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
    ];

    /// <summary>Whether text is meant as a date (it starts like one, <c>2024-</c>), so a bad one is named as a bad date rather than as "not a number".</summary>
    public static bool LooksLikeDate(string text) =>
        text.Length >= 5 && char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[1]) && char.IsAsciiDigit(text[2]) && char.IsAsciiDigit(text[3]) && text[4] == '-';

    /// <summary>The bound <paramref name="text"/> writes, or null when it is not an ISO-8601 date or date-time.</summary>
    public static TimeBound? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!DateTime.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return null;
        }

        return new TimeBound(text, (time - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond);
    }

    /// <summary>
    /// A date or time measured by the validator (microseconds since 1970-01-01 UTC) as ISO-8601 text, as the column holds
    /// it: a <c>DATE</c> column's whole days as <c>2024-01-31</c> (a median between two days as a date-time,
    /// <c>2024-01-31T12:00:00</c>), a time zone column's values in UTC with <c>Z</c>, other times without an offset;
    /// fractions of a second only when there are some (to the microsecond).
    /// </summary>
    public static string Format(long microseconds, string columnType)
    {
        ArgumentNullException.ThrowIfNull(columnType);
        var time = DateTime.UnixEpoch.AddTicks(microseconds * TimeSpan.TicksPerMicrosecond);
        if (columnType.Equals("DATE", StringComparison.OrdinalIgnoreCase) && microseconds % (TimeSpan.TicksPerDay / TimeSpan.TicksPerMicrosecond) == 0)
        {
            return time.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        var text = time.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture);
        return Storage.DuckDbSql.IsInstant(columnType) ? text + "Z" : text;
    }

    public override string ToString() => Text;
}
