using System.Globalization;
using System.Text.Json;

namespace Ballast.Features;

/// <summary>
/// Entity keys as the online store holds them (what materialization writes: an int64 key's decimal digits, a string
/// key's text), from what lookups and scoring requests send. An int64 entity takes what a training set's join reads as
/// that integer: a JSON integer, a whole number written otherwise (<c>1.0</c>, <c>1e3</c>) and text of one (<c>"1"</c>,
/// <c>"01"</c>, <c>"1.0"</c>); a fraction (<c>1.5</c>), other text, <c>true</c> or null is refused with the reason,
/// never rounded nor looked up as a key no row has. A string entity takes text as it is and a number as its JSON text.
/// </summary>
public static class EntityKeys
{
    /// <summary>A key sent as JSON; false with the reason (<c>not a whole number</c>, …) when it is none of the entity's.</summary>
    public static bool TryNormalize(EntitySpec entity, JsonElement value, out string key, out string reason)
    {
        ArgumentNullException.ThrowIfNull(entity);
        (key, reason) = ("", "");
        if (entity.Type == FeatureTypes.Int64)
        {
            return value.ValueKind switch
            {
                JsonValueKind.Number when value.TryGetInt64(out var integer) => Done(integer, out key),
                JsonValueKind.Number => TryWhole(value.TryGetDecimal(out var exact) ? exact : null, value.GetDouble(), out key, out reason),
                JsonValueKind.String => TryNormalize(entity, value.GetString()!, out key, out reason),
                _ => Fail("not a number", out reason),
            };
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return TryNormalize(entity, value.GetString()!, out key, out reason);
            case JsonValueKind.Number:
                key = value.GetRawText();
                return true;
            default:
                return Fail("not a string", out reason);
        }
    }

    /// <summary>A key sent as text (a query parameter, a CSV cell, a BYTES tensor element).</summary>
    public static bool TryNormalize(EntitySpec entity, string text, out string key, out string reason)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(text);
        (key, reason) = ("", "");
        if (entity.Type != FeatureTypes.Int64)
        {
            key = text;
            return text.Length > 0 || Fail("empty", out reason);
        }

        var trimmed = text.Trim();
        if (long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return Done(integer, out key);
        }

        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return Fail("not a number", out reason);
        }

        return TryWhole(decimal.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact) ? exact : null, number, out key, out reason);
    }

    /// <summary>Element <paramref name="index"/> of a tensor's data (the join key input of a scoring request).</summary>
    public static bool TryNormalize(EntitySpec entity, Array data, int index, out string key, out string reason)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(data);
        (key, reason) = ("", "");
        var element = data.GetValue(index);
        if (entity.Type != FeatureTypes.Int64)
        {
            return element is not null && element is not bool ? TryNormalize(entity, FeatureTypes.KeyText(data, index)!, out key, out reason) : Fail("not a string", out reason);
        }

        return element switch
        {
            string text => TryNormalize(entity, text, out key, out reason),
            ulong value when value > long.MaxValue => Fail("beyond the int64 range", out reason),
            sbyte or byte or short or ushort or int or uint or long or ulong => Done(Convert.ToInt64(element, CultureInfo.InvariantCulture), out key),
            Half value => TryWhole(null, (double)value, out key, out reason),
            float value => TryWhole(null, value, out key, out reason),
            double value => TryWhole(null, value, out key, out reason),
            _ => Fail("not a number", out reason),
        };
    }

    /// <summary>The text a problem message shows for a JSON key: strings quoted, numbers as sent.</summary>
    public static string Describe(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? "nothing" : value.GetRawText();

    // A number read exactly (decimal) where it can be, else as a double (beyond decimal's range, i.e. beyond int64's).
    private static bool TryWhole(decimal? exact, double number, out string key, out string reason)
    {
        key = "";
        if (exact is { } value)
        {
            if (value != decimal.Truncate(value))
            {
                return Fail("not a whole number", out reason);
            }

            if (value is < long.MinValue or > long.MaxValue)
            {
                return Fail("beyond the int64 range", out reason);
            }

            reason = "";
            return Done((long)value, out key);
        }

        if (!double.IsFinite(number) || number != Math.Truncate(number))
        {
            return Fail("not a whole number", out reason);
        }

        // 2^63 is the first double past long.MaxValue; every double below it in magnitude converts exactly.
        if (number is < -9.2233720368547758E18 or >= 9.2233720368547758E18)
        {
            return Fail("beyond the int64 range", out reason);
        }

        reason = "";
        return Done((long)number, out key);
    }

    private static bool Done(long value, out string key)
    {
        key = value.ToString(CultureInfo.InvariantCulture);
        return true;
    }

    private static bool Fail(string why, out string reason)
    {
        reason = why;
        return false;
    }
}
