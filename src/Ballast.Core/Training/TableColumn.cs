namespace Ballast.Training;

/// <summary>What a column of a training file holds, read from the file's types.</summary>
public enum ColumnKind
{
    /// <summary>Integers and decimals; a feature of type Single (missing values are NaN).</summary>
    Numeric,

    /// <summary>Strings; a categorical feature unless declared as text (missing values are empty).</summary>
    Text,

    /// <summary>true/false; a binary label, or a 0/1 feature.</summary>
    Boolean,

    /// <summary>Dates and timestamps; used for time-based splits, never a feature.</summary>
    Timestamp,
}

/// <summary>One column of a <see cref="Table"/>: the values of its kind, one per row.</summary>
internal sealed class TableColumn(string name, ColumnKind kind, int rows)
{
    public string Name { get; } = name;

    public ColumnKind Kind { get; } = kind;

    /// <summary>Numeric and boolean values (booleans as 0/1); NaN when missing.</summary>
    public float[] Numbers { get; } = kind is ColumnKind.Numeric or ColumnKind.Boolean ? new float[rows] : [];

    /// <summary>Text values; null when missing.</summary>
    public string?[] Texts { get; } = kind == ColumnKind.Text ? new string?[rows] : [];

    /// <summary>Timestamps as UTC ticks; null when missing.</summary>
    public long?[] Times { get; } = kind == ColumnKind.Timestamp ? new long?[rows] : [];

    /// <summary>The value of a row as text, for labels and segments (a number in invariant form, "true"/"false").</summary>
    public string? TextAt(int row) => Kind switch
    {
        ColumnKind.Text => Texts[row],
        ColumnKind.Boolean => float.IsNaN(Numbers[row]) ? null : Numbers[row] != 0 ? "true" : "false",
        ColumnKind.Numeric => float.IsNaN(Numbers[row]) ? null : Numbers[row].ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => Times[row] is { } ticks ? new DateTime(ticks, DateTimeKind.Utc).ToString("O", System.Globalization.CultureInfo.InvariantCulture) : null,
    };
}
