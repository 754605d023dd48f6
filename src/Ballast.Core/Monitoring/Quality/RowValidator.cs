using System.Globalization;
using System.Text.RegularExpressions;
using Ballast.Runtime;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// A suite compiled for serving: checks each row of a request's input tensors for type, required, min, max, allowed
/// and regex (max_null_rate and unique need many rows and are left to batch and window validation). Columns are the
/// inputs by name (a <c>[N]</c> or <c>[N, 1]</c> tensor), or <c>NAME[i]</c> for column i of a <c>[N, K]</c> input.
/// Compiled once per endpoint revision (regexes included); a request that passes allocates nothing.
/// </summary>
public sealed partial class RowValidator
{
    private readonly CompiledColumn[] _columns;

    private RowValidator(CompiledColumn[] columns) => _columns = columns;

    /// <summary>Compiles a valid suite (see <see cref="ExpectationSuite.Validate"/>).</summary>
    public static RowValidator Compile(ExpectationSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (suite.Validate() is { Count: > 0 } problems)
        {
            throw new ExpectationSuiteException("invalid expectations: " + string.Join("; ", problems));
        }

        return new RowValidator(suite.Columns.Select(pair => new CompiledColumn(pair.Key, pair.Value)).Where(column => column.Checks).ToArray());
    }

    /// <summary>Checks every row; the result lists each failed expectation once, with how many rows failed it and the first.</summary>
    public RowCheck Check(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rows = inputs.Count > 0 && inputs[0].Shape.Length > 0 ? (int)inputs[0].Shape[0] : 1;
        List<RowViolation>? violations = null;
        foreach (var column in _columns)
        {
            var (tensor, offset, width) = Find(inputs, column);
            if (tensor is null)
            {
                if (column.Expectations.Required == true)
                {
                    (violations ??= []).Add(new RowViolation(column.Name, ExpectationKinds.Required, rows, 0, "no such input"));
                }

                continue;
            }

            column.CheckRows(tensor, offset, width, rows, ref violations);
        }

        return new RowCheck(rows, violations ?? (IReadOnlyList<RowViolation>)[]);
    }

    /// <summary>
    /// The suite's columns that none of a model's <paramref name="inputs"/> provides (by name with shape [N] or [N, 1],
    /// or NAME[i] within an [N, K] input): such a column would never be checked, so the endpoint is not served with it.
    /// </summary>
    public IReadOnlyList<string> UnknownColumns(IReadOnlyList<TensorSpec> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var unknown = new List<string>();
        foreach (var column in _columns)
        {
            var found = inputs.Any(input => column.Index < 0
                ? input.Name == column.Name && (input.Shape.Count <= 1 || (input.Shape.Count == 2 && input.Shape[1] is 1 or -1))
                : input.Name == column.Input && input.Shape.Count == 2 && (input.Shape[1] < 0 || column.Index < input.Shape[1]));
            if (!found)
            {
                unknown.Add(column.Name);
            }
        }

        return unknown;
    }

    private static (Tensor? Tensor, int Offset, int Width) Find(IReadOnlyList<Tensor> inputs, CompiledColumn column)
    {
        for (var i = 0; i < inputs.Count; i++)
        {
            var tensor = inputs[i];
            var shape = tensor.Shape;
            if (column.Index < 0 && tensor.Name == column.Name && (shape.Length <= 1 || (shape.Length == 2 && shape[1] == 1)))
            {
                return (tensor, 0, 1);
            }

            if (column.Index >= 0 && tensor.Name == column.Input && shape.Length == 2 && column.Index < shape[1])
            {
                return (tensor, column.Index, (int)shape[1]);
            }
        }

        return (null, 0, 0);
    }

    /// <summary>What a cell holds, read without boxing.</summary>
    private enum CellKind
    {
        Missing,
        Number,
        Boolean,
        Text,
    }

    private sealed partial class CompiledColumn
    {
        private readonly Regex? _regex;
        private readonly HashSet<string>? _allowedText;
        private readonly HashSet<double>? _allowedNumbers;

        public CompiledColumn(string name, ColumnExpectations expectations)
        {
            Name = name;
            Expectations = expectations;
            var match = IndexedName().Match(name);
            (Input, Index) = match.Success ? (match.Groups[1].Value, int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)) : (name, -1);
            _regex = expectations.Regex is { } pattern ? new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100)) : null;
            if (expectations.Allowed is { } allowed)
            {
                _allowedText = new HashSet<string>(allowed, StringComparer.Ordinal);
                _allowedNumbers = allowed.Select(value => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : double.NaN)
                    .Where(double.IsFinite).ToHashSet();
            }

            Checks = expectations.Type is not null || expectations.Required == true || expectations.Min is not null || expectations.Max is not null
                || expectations.Allowed is not null || expectations.Regex is not null;
        }

        public string Name { get; }

        public string Input { get; }

        public int Index { get; }

        public ColumnExpectations Expectations { get; }

        /// <summary>Whether any expectation applies to single rows.</summary>
        public bool Checks { get; }

        public void CheckRows(Tensor tensor, int offset, int width, int rows, ref List<RowViolation>? violations)
        {
            // One slot per row-level kind: rows failed, and the first failing row.
            Span<int> failed = stackalloc int[6];
            Span<int> first = stackalloc int[6];
            var data = tensor.Data;
            for (var row = 0; row < rows; row++)
            {
                var index = (row * width) + offset;
                if (index >= data.Length)
                {
                    break;
                }

                var (kind, number, text) = Read(data, index);
                if (kind == CellKind.Missing)
                {
                    Fail(failed, first, 0, row, Expectations.Required == true);
                    continue;
                }

                var asNumber = kind == CellKind.Number ? number : kind == CellKind.Text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : double.NaN;
                if (Expectations.Type is { } type)
                {
                    Fail(failed, first, 1, row, !HasType(type, kind, asNumber, text));
                }

                if (Expectations.Min is { } min)
                {
                    Fail(failed, first, 2, row, !(asNumber >= min));
                }

                if (Expectations.Max is { } max)
                {
                    Fail(failed, first, 3, row, !(asNumber <= max));
                }

                if (_allowedText is not null)
                {
                    var allowed = kind switch
                    {
                        CellKind.Text => _allowedText.Contains(text!) || (double.IsFinite(asNumber) && _allowedNumbers!.Contains(asNumber)),
                        CellKind.Boolean => _allowedText.Contains(number != 0 ? "true" : "false"),
                        _ => _allowedNumbers!.Contains(number),
                    };
                    Fail(failed, first, 4, row, !allowed);
                }

                if (_regex is not null)
                {
                    Fail(failed, first, 5, row, !Matches(_regex, text ?? Format(kind, number)));
                }
            }

            for (var slot = 0; slot < failed.Length; slot++)
            {
                if (failed[slot] > 0)
                {
                    var (kind, number, text) = Read(data, (first[slot] * width) + offset);
                    (violations ??= []).Add(new RowViolation(Name, Kinds[slot], failed[slot], first[slot],
                        kind == CellKind.Missing ? "missing" : kind == CellKind.Text ? $"'{text}'" : Format(kind, number)));
                }
            }
        }

        /// <summary>A value the regex cannot decide within its timeout does not match (rather than failing the request with 500).</summary>
        private static bool Matches(Regex regex, string value)
        {
            try
            {
                return regex.IsMatch(value);
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }

        private static readonly string[] Kinds = [ExpectationKinds.Required, ExpectationKinds.Type, ExpectationKinds.Min, ExpectationKinds.Max, ExpectationKinds.Allowed, ExpectationKinds.Regex];

        private static void Fail(Span<int> failed, Span<int> first, int slot, int row, bool failing)
        {
            if (failing && failed[slot]++ == 0)
            {
                first[slot] = row;
            }
        }

        private static bool HasType(string type, CellKind kind, double number, string? text) => type switch
        {
            ColumnTypes.String => kind == CellKind.Text,
            ColumnTypes.Boolean => kind == CellKind.Boolean || (kind == CellKind.Number && number is 0 or 1)
                || (kind == CellKind.Text && (text!.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase))),
            ColumnTypes.Integer => kind != CellKind.Boolean && double.IsFinite(number) && Math.Floor(number) == number,
            _ => kind != CellKind.Boolean && !double.IsNaN(number),
        };

        private static string Format(CellKind kind, double number) =>
            kind == CellKind.Boolean ? (number != 0 ? "true" : "false") : number.ToString("R", CultureInfo.InvariantCulture);

        /// <summary>A cell as a number (booleans as 0/1) or text; NaN floats are missing, as in batch validation.</summary>
        private static (CellKind Kind, double Number, string? Text) Read(Array data, int index) => data switch
        {
            float[] values => float.IsNaN(values[index]) ? (CellKind.Missing, 0, null) : (CellKind.Number, values[index], null),
            double[] values => double.IsNaN(values[index]) ? (CellKind.Missing, 0, null) : (CellKind.Number, values[index], null),
            Half[] values => Half.IsNaN(values[index]) ? (CellKind.Missing, 0, null) : (CellKind.Number, (double)values[index], null),
            long[] values => (CellKind.Number, values[index], null),
            int[] values => (CellKind.Number, values[index], null),
            short[] values => (CellKind.Number, values[index], null),
            sbyte[] values => (CellKind.Number, values[index], null),
            byte[] values => (CellKind.Number, values[index], null),
            ushort[] values => (CellKind.Number, values[index], null),
            uint[] values => (CellKind.Number, values[index], null),
            ulong[] values => (CellKind.Number, values[index], null),
            bool[] values => (CellKind.Boolean, values[index] ? 1 : 0, null),
            string[] values => values[index] is null ? (CellKind.Missing, 0, null) : (CellKind.Text, 0, values[index]),
            _ => (CellKind.Missing, 0, null),
        };

        [GeneratedRegex(@"^(.+)\[([0-9]{1,6})\]$")]
        private static partial Regex IndexedName();
    }
}
