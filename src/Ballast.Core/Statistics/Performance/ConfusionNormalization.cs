namespace Ballast.Statistics.Performance;

/// <summary>
/// NannyML's <c>normalize_confusion_matrix</c> for CBPE's expected confusion matrix: <see cref="None"/> keeps the
/// expected counts; <see cref="True"/> divides each cell by its true class's expected count (the row: each row sums to
/// 1), <see cref="Pred"/> by its predicted class's expected count (the column), <see cref="All"/> by the whole
/// matrix's (the rows estimated).
/// </summary>
public enum ConfusionNormalization
{
    None,
    True,
    Pred,
    All,
}

/// <summary>The normalizations by NannyML's names, and the expected confusion matrix normalized by one.</summary>
public static class ConfusionNormalizations
{
    /// <summary>NannyML's values of <c>normalize_confusion_matrix</c>, in its order (absent: the counts).</summary>
    public static IReadOnlyList<string> Names { get; } = ["true", "pred", "all"];

    /// <summary>The normalization NannyML names <paramref name="name"/> (<c>true</c>, <c>pred</c>, <c>all</c>; null for none); null when it is none of them.</summary>
    public static ConfusionNormalization? Parse(string? name) => name switch
    {
        null => ConfusionNormalization.None,
        "true" => ConfusionNormalization.True,
        "pred" => ConfusionNormalization.Pred,
        "all" => ConfusionNormalization.All,
        _ => null,
    };

    /// <summary>NannyML's name of <paramref name="normalization"/>; null for <see cref="ConfusionNormalization.None"/>.</summary>
    public static string? Name(ConfusionNormalization normalization) => normalization switch
    {
        ConfusionNormalization.True => "true",
        ConfusionNormalization.Pred => "pred",
        ConfusionNormalization.All => "all",
        _ => null,
    };

    /// <summary>
    /// The expected confusion matrix ([true][predicted]) normalized as NannyML's CBPE does
    /// (<c>_get_multiclass_confusion_matrix_estimate</c>; the binary <c>get_true_positive_estimate</c> and the other
    /// cells' are the same on the 2 × 2 matrix): by the row's sum, the column's sum, or by <paramref name="total"/>
    /// (the rows estimated; by default the matrix's sum, which is the rows estimated since every row's probabilities
    /// sum to 1). A row or column whose expected count is 0 gives NaN, as NannyML's 0/0.
    /// </summary>
    public static double[][] Normalize(IReadOnlyList<IReadOnlyList<double>> matrix, ConfusionNormalization normalization, double? total = null)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var size = matrix.Count;
        if (matrix.Any(row => row.Count != size))
        {
            throw new ArgumentException($"a confusion matrix is square (got {size} rows of {string.Join(", ", matrix.Select(row => row.Count))} cells).");
        }

        var rows = matrix.Select(row => row.Sum()).ToArray();
        var columns = Enumerable.Range(0, size).Select(j => matrix.Sum(row => row[j])).ToArray();
        var all = total ?? rows.Sum();
        return matrix.Select((row, i) => row.Select((cell, j) => normalization switch
        {
            ConfusionNormalization.True => cell / rows[i],
            ConfusionNormalization.Pred => cell / columns[j],
            ConfusionNormalization.All => cell / all,
            _ => cell,
        }).ToArray()).ToArray();
    }

    /// <summary>The binary expected confusion matrix normalized (<see cref="Normalize(IReadOnlyList{IReadOnlyList{double}}, ConfusionNormalization, double?)"/>); <c>all</c> divides by <paramref name="rows"/>, as NannyML's mean over the chunk.</summary>
    public static EstimatedConfusionMatrix Normalize(EstimatedConfusionMatrix matrix, ConfusionNormalization normalization, int rows)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var normalized = Normalize([[matrix.TrueNegatives, matrix.FalsePositives], [matrix.FalseNegatives, matrix.TruePositives]], normalization, rows);
        return new EstimatedConfusionMatrix(normalized[1][1], normalized[0][1], normalized[1][0], normalized[0][0]);
    }
}
