namespace Ballast.Datasets;

/// <summary>
/// What changed between two dataset versions: files added, removed and changed (by path and SHA-256), and for each
/// pair of tables (same path, or the only table on each side) the schema changes and the per-column statistics that moved.
/// </summary>
public sealed record DatasetDiff(
    string From,
    string To,
    bool Identical,
    IReadOnlyList<string> FilesAdded,
    IReadOnlyList<string> FilesRemoved,
    IReadOnlyList<string> FilesChanged,
    IReadOnlyList<TableDiff> Tables)
{
    public static DatasetDiff Compare(DatasetVersion from, DatasetVersion to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var before = (from.Files ?? []).ToDictionary(file => file.Path, StringComparer.Ordinal);
        var after = (to.Files ?? []).ToDictionary(file => file.Path, StringComparer.Ordinal);
        var added = after.Keys.Where(path => !before.ContainsKey(path)).Order(StringComparer.Ordinal).ToList();
        var removed = before.Keys.Where(path => !after.ContainsKey(path)).Order(StringComparer.Ordinal).ToList();
        var changed = before.Keys.Where(path => after.TryGetValue(path, out var file) && file.Sha256 != before[path].Sha256).Order(StringComparer.Ordinal).ToList();

        var oldTables = from.Profile?.Tables ?? [];
        var newTables = to.Profile?.Tables ?? [];
        var pairs = oldTables.Join(newTables, table => table.Path, table => table.Path, (a, b) => (a, b), StringComparer.Ordinal).ToList();
        if (pairs.Count == 0 && oldTables.Count == 1 && newTables.Count == 1)
        {
            // One table on each side under different names (train_v1.csv → train_v2.csv): compare them.
            pairs.Add((oldTables[0], newTables[0]));
        }

        var tables = pairs.Select(pair => TableDiff.Compare(pair.Item1, pair.Item2)).Where(diff => diff.HasChanges).ToList();
        return new DatasetDiff(from.Reference, to.Reference, from.Digest == to.Digest, added, removed, changed, tables);
    }
}

public sealed record ColumnSchema(string Name, string Type);

public sealed record TypeChange(string Name, string From, string To);

/// <summary>One statistic of a column that differs: its value before and after.</summary>
public sealed record StatChange(string Stat, double? From, double? To);

public sealed record ColumnChange(string Name, IReadOnlyList<StatChange> Stats);

public sealed record TableDiff(
    string FromPath,
    string ToPath,
    long RowsBefore,
    long RowsAfter,
    IReadOnlyList<ColumnSchema> ColumnsAdded,
    IReadOnlyList<ColumnSchema> ColumnsRemoved,
    IReadOnlyList<TypeChange> TypeChanges,
    IReadOnlyList<ColumnChange> ColumnChanges)
{
    internal bool HasChanges => RowsBefore != RowsAfter || ColumnsAdded.Count + ColumnsRemoved.Count + TypeChanges.Count + ColumnChanges.Count > 0 || FromPath != ToPath;

    public static TableDiff Compare(TableProfile from, TableProfile to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var before = from.Columns.ToDictionary(column => column.Name, StringComparer.Ordinal);
        var after = to.Columns.ToDictionary(column => column.Name, StringComparer.Ordinal);
        var added = to.Columns.Where(column => !before.ContainsKey(column.Name)).Select(column => new ColumnSchema(column.Name, column.Type)).ToList();
        var removed = from.Columns.Where(column => !after.ContainsKey(column.Name)).Select(column => new ColumnSchema(column.Name, column.Type)).ToList();
        var typeChanges = new List<TypeChange>();
        var changes = new List<ColumnChange>();
        foreach (var old in from.Columns.Where(column => after.ContainsKey(column.Name)))
        {
            var now = after[old.Name];
            if (old.Type != now.Type)
            {
                typeChanges.Add(new TypeChange(old.Name, old.Type, now.Type));
            }

            var stats = new List<StatChange>();
            Add(stats, "null_fraction", Fraction(old.Nulls, from.Rows), Fraction(now.Nulls, to.Rows));
            Add(stats, "distinct", old.Distinct, now.Distinct);
            Add(stats, "min", old.Min, now.Min);
            Add(stats, "max", old.Max, now.Max);
            Add(stats, "mean", old.Mean, now.Mean);
            Add(stats, "std", old.Std, now.Std);
            Add(stats, "p50", Median(old), Median(now));
            if (stats.Count > 0)
            {
                changes.Add(new ColumnChange(old.Name, stats));
            }
        }

        return new TableDiff(from.Path, to.Path, from.Rows, to.Rows, added, removed, typeChanges, changes);
    }

    private static double? Median(ColumnProfile column) => column.Quantiles is { } quantiles && quantiles.TryGetValue("p50", out var median) ? median : null;

    private static double? Fraction(long part, long whole) => whole == 0 ? null : (double)part / whole;

    private static void Add(List<StatChange> stats, string name, double? from, double? to)
    {
        // Equal up to the last bits of a double (the same statistic recomputed may differ there).
        if (from is null && to is null || (from is { } a && to is { } b && (a == b || Math.Abs(a - b) <= 1e-12 * Math.Max(Math.Abs(a), Math.Abs(b)))))
        {
            return;
        }

        stats.Add(new StatChange(name, from, to));
    }
}
