namespace Ballast.Training;

/// <summary>A training file held in memory, column by column, rows in the file's order.</summary>
internal sealed class Table(IReadOnlyList<TableColumn> columns, int rows)
{
    public IReadOnlyList<TableColumn> Columns { get; } = columns;

    public int Rows { get; } = rows;

    public TableColumn? Find(string name) => Columns.FirstOrDefault(column => column.Name == name);

    public TableColumn Get(string name, string role) =>
        Find(name) ?? throw new TrainingInputException($"the {role} column '{name}' is not in the file (columns: {string.Join(", ", Columns.Select(column => column.Name))})");
}
