using System.Globalization;
using System.Numerics;

namespace Ballast.Runtime;

/// <summary>
/// A single- or half-precision value as the number its sender wrote: the double its shortest round-trip text reads as
/// (7.9f is 7.9, not the 7.900000095367432 it widens to; (Half)0.1 is 0.1, not 0.0999755859375). Formatted on the stack,
/// so nothing is allocated: data-quality checks call it per cell at serving.
/// </summary>
public static class SentNumber
{
    /// <summary>An FP32 value as sent. A whole number of at most 2^24 in magnitude is that text already (floats there are 1 or less apart).</summary>
    public static double Of(float value) => Of(value, 16_777_216);

    /// <summary>An FP16 value as sent. A whole number of at most 2^11 in magnitude is that text already (halves there are 1 or less apart).</summary>
    public static double Of(Half value) => Of(value, 2_048);

    private static double Of<T>(T value, double exactWholeNumbers)
        where T : IBinaryFloatingPointIeee754<T>
    {
        var widened = double.CreateTruncating(value);
        if (!double.IsFinite(widened) || (Math.Abs(widened) <= exactWholeNumbers && Math.Floor(widened) == widened))
        {
            return widened;
        }

        Span<char> text = stackalloc char[32];
        return value.TryFormat(text, out var written, "R", CultureInfo.InvariantCulture)
            && double.TryParse(text[..written], NumberStyles.Float, CultureInfo.InvariantCulture, out var sent) ? sent : widened;
    }
}
