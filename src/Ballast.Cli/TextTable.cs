namespace Ballast.Cli;

/// <summary>A plain, aligned text table for the human output of read commands.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public async Task WriteAsync(TextWriter output)
    {
        var widths = headers.Select((header, column) => _rows.Select(row => row[column].Length).Append(header.Length).Max()).ToArray();
        await output.WriteLineAsync(Format(headers, widths)).ConfigureAwait(false);
        foreach (var row in _rows)
        {
            await output.WriteLineAsync(Format(row, widths)).ConfigureAwait(false);
        }
    }

    private static string Format(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((cell, column) => column == cells.Length - 1 ? cell : cell.PadRight(widths[column]))).TrimEnd();
}
