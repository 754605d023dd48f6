using System.Globalization;
using System.Text;

namespace Ballast;

/// <summary>
/// The one grammar for durations in specs, requests and manifests (rollout pauses and intervals, monitor windows,
/// silences, pipeline timeouts and backoffs, feature TTLs, CUPED lookbacks), in the style of Go and Prometheus: one or
/// more <c>NUMBER UNIT</c> parts, units <c>w</c> (7 days), <c>d</c>, <c>h</c>, <c>m</c>, <c>s</c>, <c>ms</c> from largest
/// to smallest, each at most once (<c>250ms</c>, <c>90s</c>, <c>1h30m</c>, <c>1.5h</c>, <c>7d</c>, <c>2w</c>); a number is
/// digits with an optional fraction; <c>0</c> alone is zero. Spaces around it are ignored, inside it they are not
/// allowed. Each caller says what range it takes (positive, at most 30 days, …): the grammar only says what a
/// duration is.
/// </summary>
public static class Durations
{
    private const long TicksPerWeek = 7 * TimeSpan.TicksPerDay;

    // Largest first: a duration names them in this order. Formatting stops at days (14d reads better than 2w).
    private static readonly (string Unit, long Ticks)[] Units =
    [
        ("w", TicksPerWeek),
        ("d", TimeSpan.TicksPerDay),
        ("h", TimeSpan.TicksPerHour),
        ("m", TimeSpan.TicksPerMinute),
        ("s", TimeSpan.TicksPerSecond),
        ("ms", TimeSpan.TicksPerMillisecond),
    ];

    /// <summary>
    /// The duration <paramref name="text"/> names; null when it is not one (empty, a sign, an unknown or repeated unit,
    /// units out of order, spaces inside) or when it is longer than a <see cref="TimeSpan"/> holds. Never throws.
    /// </summary>
    public static TimeSpan? Parse(string? text)
    {
        var span = text.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return null;
        }

        if (span is "0")
        {
            return TimeSpan.Zero;
        }

        decimal ticks = 0;
        var previous = -1;
        var i = 0;
        while (i < span.Length)
        {
            var start = i;
            i = SkipDigits(span, i);
            if (i == start)
            {
                return null;
            }

            if (i < span.Length && span[i] == '.')
            {
                var fraction = ++i;
                i = SkipDigits(span, i);
                if (i == fraction)
                {
                    return null;
                }
            }

            var number = span[start..i];
            var unitStart = i;
            while (i < span.Length && span[i] is >= 'a' and <= 'z')
            {
                i++;
            }

            var unit = UnitIndex(span[unitStart..i]);
            if (unit <= previous || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return null; // no unit, an unknown one, one out of order or repeated; or more digits than a decimal holds
            }

            previous = unit;
            try
            {
                ticks += value * Units[unit].Ticks;
            }
            catch (OverflowException)
            {
                return null;
            }

            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                return null;
            }
        }

        return new TimeSpan((long)Math.Round(ticks, MidpointRounding.AwayFromZero));
    }

    /// <summary>
    /// <paramref name="duration"/> in the grammar <see cref="Parse"/> reads, largest units first and without weeks:
    /// <c>30d</c>, <c>1h30m</c>, <c>1m30s</c>, <c>0.5ms</c>; zero is <c>0s</c>. <see cref="Parse"/> reads it back to the same value.
    /// </summary>
    public static string Format(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }

        var text = new StringBuilder();
        var rest = duration.Ticks;
        foreach (var (unit, size) in Units.AsSpan(1, Units.Length - 2))
        {
            if (rest >= size)
            {
                text.Append(CultureInfo.InvariantCulture, $"{rest / size}{unit}");
                rest %= size;
            }
        }

        if (rest > 0)
        {
            // What is left is under a second: milliseconds, with the ticks below a millisecond as a fraction.
            text.Append(((decimal)rest / TimeSpan.TicksPerMillisecond).ToString("0.####", CultureInfo.InvariantCulture)).Append("ms");
        }

        return text.ToString();
    }

    private static int SkipDigits(ReadOnlySpan<char> text, int i)
    {
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        return i;
    }

    private static int UnitIndex(ReadOnlySpan<char> unit)
    {
        for (var i = 0; i < Units.Length; i++)
        {
            if (unit.SequenceEqual(Units[i].Unit))
            {
                return i;
            }
        }

        return -1;
    }
}
