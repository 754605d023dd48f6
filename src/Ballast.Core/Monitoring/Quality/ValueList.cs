using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// The values of <c>allowed</c> or <c>most_common_value.value_set</c> as text, which is how they are matched (a number
/// as its shortest round-trip text, a boolean as <c>true</c>/<c>false</c>), remembering how each was written so that the
/// suite is written back as given: in <c>[1, "2", true]</c> the 1 stays a number, the "2" text and the true a boolean.
/// A plain list of text (a suite built in code, or one stored before the kinds were kept) is written as text.
/// </summary>
public sealed class ValueList : IReadOnlyList<string>
{
    private readonly string[] _texts;
    private readonly ValueKind[] _kinds;

    /// <summary>How a value was written in the suite.</summary>
    public enum ValueKind
    {
        Text,
        Number,
        Boolean,
    }

    public ValueList(IEnumerable<(string Text, ValueKind Kind)> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var list = values.ToList();
        _texts = list.Select(value => value.Text).ToArray();
        _kinds = list.Select(value => value.Kind).ToArray();
    }

    public int Count => _texts.Length;

    public string this[int index] => _texts[index];

    /// <summary>Values read from a boolean column (<c>true</c>/<c>false</c> as text): written back as booleans, anything else as text.</summary>
    public static ValueList Booleans(IEnumerable<string> texts) =>
        new(texts.Select(text => (text, text is "true" or "false" ? ValueKind.Boolean : ValueKind.Text)));

    /// <summary>
    /// A JSON number as the text it is kept as: a whole number that fits 64 bits as its digits, exactly (a double holds
    /// integers exactly only up to 2^53); any other as the shortest text that reads back as the same double.
    /// </summary>
    public static string NumberText(JsonElement number) =>
        number.TryGetInt64(out var whole) ? whole.ToString(CultureInfo.InvariantCulture)
        : number.TryGetUInt64(out var large) ? large.ToString(CultureInfo.InvariantCulture)
        : number.GetDouble().ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// The number <paramref name="text"/> is, when a double holds it exactly: false for text that is not a number, and
    /// for a whole number a double would round (9007199254740993, above 2^53, is not 9007199254740992), which is then
    /// matched by its digits only.
    /// </summary>
    public static bool TryExactDouble(string text, out double number)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number) || !double.IsFinite(number))
        {
            return false;
        }

        // 2^63 and 2^64 are exact doubles; a whole number below them converts back to itself only when the double holds it.
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)
            ? number < 9223372036854775808d && (long)number == whole
            : !ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var large) || (number < 18446744073709551616d && (ulong)number == large);
    }

    /// <summary>How the value at <paramref name="index"/> of <paramref name="values"/> was written; text for a plain list.</summary>
    public static ValueKind KindOf(IReadOnlyList<string> values, int index)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values is ValueList list ? list._kinds[index] : ValueKind.Text;
    }

    /// <summary>Writes <paramref name="values"/> as a JSON array, each value as it was written (<see cref="KindOf"/>).</summary>
    public static void Write(Utf8JsonWriter writer, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(values);
        writer.WriteStartArray();
        for (var i = 0; i < values.Count; i++)
        {
            var text = values[i];
            switch (KindOf(values, i))
            {
                // A whole number as its digits: a double would round 9007199254740993 (above 2^53) to ...992.
                case ValueKind.Number when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole):
                    writer.WriteNumberValue(whole);
                    break;
                case ValueKind.Number when ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var large):
                    writer.WriteNumberValue(large);
                    break;
                case ValueKind.Number when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number):
                    writer.WriteNumberValue(number);
                    break;
                case ValueKind.Boolean when text is "true" or "false":
                    writer.WriteBooleanValue(text == "true");
                    break;
                default:
                    writer.WriteStringValue(text);
                    break;
            }
        }

        writer.WriteEndArray();
    }

    public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)_texts).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
