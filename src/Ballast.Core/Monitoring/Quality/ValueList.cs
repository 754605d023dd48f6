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
