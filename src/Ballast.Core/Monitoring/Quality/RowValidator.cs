using System.Globalization;
using System.Text.RegularExpressions;
using Ballast.Runtime;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// A suite compiled for serving: checks each row of a request's input tensors for type, required, min, max, allowed,
/// regex, the column pairs (greater_than, greater_or_equal, equal_to) and the multicolumn sum_to_equal; max_null_rate,
/// unique (of a column or of several), the row count and the column aggregates (mean, …, quantiles) need many rows and are
/// left to batch and window validation (an endpoint's suite refuses them). Columns are the inputs by name (a <c>[N]</c> or <c>[N, 1]</c>
/// tensor), or <c>NAME[i]</c> for column i of a <c>[N, K]</c> input; an input a request lacks is missing in every row.
/// Compiled once per endpoint revision (regexes included); a request that passes allocates nothing.
/// </summary>
public sealed partial class RowValidator
{
    private readonly CompiledColumn[] _columns;
    private readonly CompiledMulticolumn[] _multicolumn;

    private RowValidator(CompiledColumn[] columns, CompiledMulticolumn[] multicolumn) => (_columns, _multicolumn) = (columns, multicolumn);

    /// <summary>Compiles a valid suite (see <see cref="ExpectationSuite.Validate"/>).</summary>
    public static RowValidator Compile(ExpectationSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (suite.Validate() is { Count: > 0 } problems)
        {
            throw new ExpectationSuiteException("invalid expectations: " + ProblemList.Join(problems));
        }

        return new RowValidator(suite.Columns.Select(pair => new CompiledColumn(pair.Key, pair.Value)).Where(column => column.Checks).ToArray(),
            suite.Multicolumn.Where(multi => multi.Kind is ExpectationKinds.SumToEqual or ExpectationKinds.UniqueWithinRecord).Select(multi => new CompiledMulticolumn(multi)).ToArray());
    }

    /// <summary>Checks every row; the result lists each failed expectation once, with how many rows failed it and the first.</summary>
    public RowCheck Check(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rows = inputs.Count > 0 && inputs[0].Shape.Length > 0 ? (int)inputs[0].Shape[0] : 1;
        List<RowViolation>? violations = null;
        foreach (var column in _columns)
        {
            var (tensor, offset, width) = Find(inputs, column.Input, column.Index);
            if (tensor is null)
            {
                if (column.Expectations.Required == true)
                {
                    (violations ??= []).Add(new RowViolation(column.Name, ExpectationKinds.Required, rows, 0, "no such input"));
                }
            }
            else
            {
                column.CheckRows(tensor, offset, width, rows, ref violations);
            }

            column.CheckPairs(inputs, tensor, offset, width, rows, ref violations);
        }

        foreach (var multi in _multicolumn)
        {
            multi.Check(inputs, rows, ref violations);
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
        var named = _columns.SelectMany(column => column.Pairs.Select(pair => (pair.Other, pair.Input, pair.Index)).Prepend((column.Name, column.Input, column.Index)))
            .Concat(_multicolumn.SelectMany(multi => multi.Columns));
        foreach (var (name, input, index) in named)
        {
            var found = inputs.Any(spec => index < 0
                ? spec.Name == input && (spec.Shape.Count <= 1 || (spec.Shape.Count == 2 && spec.Shape[1] is 1 or -1))
                : spec.Name == input && spec.Shape.Count == 2 && (spec.Shape[1] < 0 || index < spec.Shape[1]));
            if (!found && !unknown.Contains(name))
            {
                unknown.Add(name);
            }
        }

        return unknown;
    }

    /// <summary>The tensor holding a column: <paramref name="input"/> itself when <paramref name="index"/> is negative, else its column <paramref name="index"/>.</summary>
    private static (Tensor? Tensor, int Offset, int Width) Find(IReadOnlyList<Tensor> inputs, string input, int index)
    {
        for (var i = 0; i < inputs.Count; i++)
        {
            var tensor = inputs[i];
            var shape = tensor.Shape;
            if (index < 0 && tensor.Name == input && (shape.Length <= 1 || (shape.Length == 2 && shape[1] == 1)))
            {
                return (tensor, 0, 1);
            }

            if (index >= 0 && tensor.Name == input && shape.Length == 2 && index < shape[1])
            {
                return (tensor, index, (int)shape[1]);
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
            (Input, Index) = Locate(name);
            Pairs = expectations.Pairs().Select(pair => new CompiledPair(pair.Kind, pair.Expectation, pair.Other, Locate(pair.Other), expectations.PairMissing, pair.Shift)).ToArray();
            _regex = expectations.Regex is { } pattern ? new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100)) : null;
            if (expectations.Allowed is { } allowed)
            {
                _allowedText = new HashSet<string>(allowed, StringComparer.Ordinal);
                _allowedNumbers = allowed.Select(value => ValueList.TryExactDouble(value, out var n) ? n : double.NaN)
                    .Where(double.IsFinite).ToHashSet();
            }

            Checks = expectations.Type is not null || expectations.Required == true || expectations.Min is not null || expectations.Max is not null
                || expectations.Allowed is not null || expectations.Regex is not null || Pairs.Length > 0;
        }

        public CompiledPair[] Pairs { get; }

        /// <summary>The input and column index a column name means: <c>NAME[i]</c> is column i of input NAME; any other name is an input (index -1).</summary>
        internal static (string Input, int Index) Locate(string name)
        {
            var match = IndexedName().Match(name);
            return match.Success ? (match.Groups[1].Value, int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)) : (name, -1);
        }

        /// <summary>
        /// Each pair expectation over every row: rows its ignore_row_if skips are left out; in the others a missing value
        /// (or an input the request lacks) fails, and present values compare as numbers when both read as numbers, else as
        /// text (ordinal).
        /// </summary>
        public void CheckPairs(IReadOnlyList<Tensor> inputs, Tensor? tensor, int offset, int width, int rows, ref List<RowViolation>? violations)
        {
            foreach (var pair in Pairs)
            {
                var (other, otherOffset, otherWidth) = Find(inputs, pair.Input, pair.Index);
                var failed = 0;
                var first = 0;
                for (var row = 0; row < rows; row++)
                {
                    var a = Cell(tensor, (row * width) + offset);
                    var b = Cell(other, (row * otherWidth) + otherOffset);
                    var (missingA, missingB) = (a.Kind == CellKind.Missing, b.Kind == CellKind.Missing);
                    if (IgnoreRowIf.Skips(pair.Missing, missingA, missingB))
                    {
                        continue;
                    }

                    if ((missingA || missingB || !(pair.Shift is { } shift ? CompareShifted(pair.Kind, shift, a, b) : Compare(pair.Kind, a, b))) && failed++ == 0)
                    {
                        first = row;
                    }
                }

                if (failed > 0)
                {
                    var a = Cell(tensor, (first * width) + offset);
                    var b = Cell(other, (first * otherWidth) + otherOffset);
                    (violations ??= []).Add(new RowViolation(Name, pair.Expectation, failed, first, $"({Describe(a)}, {Describe(b)})"));
                }
            }
        }

        internal static (CellKind Kind, double Number, string? Text) Cell(Tensor? tensor, int index) =>
            tensor is null || index >= tensor.Data.Length ? (CellKind.Missing, 0, null) : Read(tensor.Data, index);

        internal static string Describe((CellKind Kind, double Number, string? Text) cell) =>
            cell.Kind == CellKind.Missing ? "missing" : cell.Kind == CellKind.Text ? $"'{cell.Text}'" : Format(cell.Kind, cell.Number);

        /// <summary>A plain pair's comparison: as numbers when both read as numbers, else as text, ordinally.</summary>
        internal static bool Compare(string kind, (CellKind Kind, double Number, string? Text) a, (CellKind Kind, double Number, string? Text) b)
        {
            var (x, y) = (AsNumber(a), AsNumber(b));
            var order = !double.IsNaN(x) && !double.IsNaN(y) ? x.CompareTo(y) : string.CompareOrdinal(AsText(a), AsText(b));
            return kind switch
            {
                ExpectationKinds.GreaterThan => order > 0,
                ExpectationKinds.GreaterOrEqual => order >= 0,
                _ => order == 0,
            };
        }

        /// <summary>
        /// A shifted pair: the column's number against ratio · the other's + offset (each number as it was sent, see
        /// <see cref="Read"/>); a value that is not a number fails.
        /// </summary>
        private static bool CompareShifted(string kind, PairShift shift, (CellKind Kind, double Number, string? Text) a, (CellKind Kind, double Number, string? Text) b)
        {
            var (x, y) = (AsNumber(a), AsNumber(b));
            if (double.IsNaN(x) || double.IsNaN(y))
            {
                return false;
            }

            var bound = shift.Apply(y);
            return kind switch
            {
                ExpectationKinds.GreaterThan => x > bound,
                ExpectationKinds.GreaterOrEqual => x >= bound,
                _ => x == bound,
            };
        }

        /// <summary>A present value as a number: numbers, and text that reads as one; NaN for booleans and other text.</summary>
        internal static double AsNumber((CellKind Kind, double Number, string? Text) cell) => cell.Kind switch
        {
            CellKind.Number => cell.Number,
            CellKind.Text when double.TryParse(cell.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => double.NaN,
        };

        private static string AsText((CellKind Kind, double Number, string? Text) cell) => cell.Kind == CellKind.Text ? cell.Text! : Format(cell.Kind, cell.Number);

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

                var asNumber = AsNumber((kind, number, text));
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
                        // A whole number a double cannot hold (above 2^53) by its digits: 9007199254740993 is not ...992.
                        _ => Math.Abs(number) < ExactWholeLimit || WholeDigits(data, index) is not { } digits ? _allowedNumbers!.Contains(number) : _allowedText.Contains(digits),
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

        private static string Format(CellKind kind, double number) => kind switch
        {
            CellKind.Boolean => number != 0 ? "true" : "false",
            _ => number.ToString("R", CultureInfo.InvariantCulture),
        };

        /// <summary>
        /// A cell as a number (booleans as 0/1) or text; NaN floats are missing, as in batch validation. An FP32 or FP16
        /// value is the number the client wrote, read back from its shortest text (7.9f is 7.9, not 7.900000095367432), so
        /// every check, and every message, sees it as sent.
        /// </summary>
        /// <summary>2^53: below it a double holds every whole number exactly.</summary>
        private const double ExactWholeLimit = 9007199254740992d;

        /// <summary>The digits of a 64-bit integer cell; null for any other cell.</summary>
        private static string? WholeDigits(Array data, int index) => data switch
        {
            ulong[] values when data.GetType() == typeof(ulong[]) => values[index].ToString(CultureInfo.InvariantCulture),
            long[] values => values[index].ToString(CultureInfo.InvariantCulture),
            _ => null,
        };

        private static (CellKind Kind, double Number, string? Text) Read(Array data, int index) => data switch
        {
            float[] values => float.IsNaN(values[index]) ? (CellKind.Missing, 0, null) : (CellKind.Number, SentNumber.Of(values[index]), null),
            double[] values => double.IsNaN(values[index]) ? (CellKind.Missing, 0, null) : (CellKind.Number, values[index], null),
            Half[] values => Half.IsNaN(values[index]) ? (CellKind.Missing, 0, null) : (CellKind.Number, SentNumber.Of(values[index]), null),
            // The runtime lets a uint[] match int[] (and byte[] sbyte[], ushort[] short[], ulong[] long[]): unsigned arrays first, by exact type.
            ulong[] values when data.GetType() == typeof(ulong[]) => (CellKind.Number, values[index], null),
            uint[] values when data.GetType() == typeof(uint[]) => (CellKind.Number, values[index], null),
            ushort[] values when data.GetType() == typeof(ushort[]) => (CellKind.Number, values[index], null),
            byte[] values when data.GetType() == typeof(byte[]) => (CellKind.Number, values[index], null),
            long[] values => (CellKind.Number, values[index], null),
            int[] values => (CellKind.Number, values[index], null),
            short[] values => (CellKind.Number, values[index], null),
            sbyte[] values => (CellKind.Number, values[index], null),
            bool[] values => (CellKind.Boolean, values[index] ? 1 : 0, null),
            string[] values => values[index] is null ? (CellKind.Missing, 0, null) : (CellKind.Text, 0, values[index]),
            _ => (CellKind.Missing, 0, null),
        };

        [GeneratedRegex(@"^(.+)\[([0-9]{1,6})\]$")]
        private static partial Regex IndexedName();
    }

    /// <summary>
    /// A multicolumn sum_to_equal or unique_within_record over every row: rows its ignore_row_if leaves out (all / any values
    /// missing, or none) are skipped. For a sum, in the others a missing value or one that is not a number fails, else the
    /// values add up (in column order, as doubles, an FP32 or FP16 value as it was sent) to exactly the total. Within a
    /// record, no two values may be equal: two missing ones are (GE's <c>nunique(dropna=False)</c>), a missing and a present
    /// one are not, and present ones compare as a pair's do, as numbers when both read as numbers, else as text.
    /// </summary>
    private sealed class CompiledMulticolumn(MulticolumnExpectation expectation)
    {
        private readonly (string Input, int Index)[] _at = expectation.Columns.Select(CompiledColumn.Locate).ToArray();

        /// <summary>Each column's name, input and index within it (for <see cref="UnknownColumns"/>).</summary>
        public IEnumerable<(string Name, string Input, int Index)> Columns => expectation.Columns.Select((name, i) => (name, _at[i].Input, _at[i].Index));

        public void Check(IReadOnlyList<Tensor> inputs, int rows, ref List<RowViolation>? violations)
        {
            var failed = 0;
            var first = 0;
            for (var row = 0; row < rows; row++)
            {
                if (!Holds(inputs, row) && failed++ == 0)
                {
                    first = row;
                }
            }

            if (failed > 0)
            {
                (violations ??= []).Add(new RowViolation(expectation.Name, expectation.Kind!, failed, first, Describe(inputs, first)));
            }
        }

        /// <summary>A row's values, "(a, b, c)" (apart from <see cref="Check"/>, whose passing requests so allocate no closure).</summary>
        private string Describe(IReadOnlyList<Tensor> inputs, int row) => "(" + string.Join(", ", _at.Select(at =>
        {
            var (tensor, offset, width) = Find(inputs, at.Input, at.Index);
            return CompiledColumn.Describe(CompiledColumn.Cell(tensor, (row * width) + offset));
        })) + ")";

        private bool Holds(IReadOnlyList<Tensor> inputs, int row) =>
            expectation.Kind == ExpectationKinds.UniqueWithinRecord ? UniqueWithinRecord(inputs, row) : Sums(inputs, row);

        private bool UniqueWithinRecord(IReadOnlyList<Tensor> inputs, int row)
        {
            var missing = 0;
            for (var i = 0; i < _at.Length; i++)
            {
                missing += Cell(inputs, i, row).Kind == CellKind.Missing ? 1 : 0;
            }

            if (MulticolumnExpectation.Skips(expectation.Missing, missing, _at.Length))
            {
                return true;
            }

            for (var i = 0; i < _at.Length; i++)
            {
                var a = Cell(inputs, i, row);
                for (var j = i + 1; j < _at.Length; j++)
                {
                    var b = Cell(inputs, j, row);
                    if (a.Kind == CellKind.Missing || b.Kind == CellKind.Missing)
                    {
                        if (a.Kind == b.Kind)
                        {
                            return false;
                        }

                        continue;
                    }

                    if (CompiledColumn.Compare(ExpectationKinds.EqualTo, a, b))
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        private (CellKind Kind, double Number, string? Text) Cell(IReadOnlyList<Tensor> inputs, int column, int row)
        {
            var (tensor, offset, width) = Find(inputs, _at[column].Input, _at[column].Index);
            return CompiledColumn.Cell(tensor, (row * width) + offset);
        }

        private bool Sums(IReadOnlyList<Tensor> inputs, int row)
        {
            var missing = 0;
            var numbers = true;
            var sum = 0.0;
            foreach (var (input, index) in _at)
            {
                var (tensor, offset, width) = Find(inputs, input, index);
                var cell = CompiledColumn.Cell(tensor, (row * width) + offset);
                if (cell.Kind == CellKind.Missing)
                {
                    missing++;
                    continue;
                }

                var number = CompiledColumn.AsNumber(cell);
                numbers &= !double.IsNaN(number);
                sum += number;
            }

            return MulticolumnExpectation.Skips(expectation.Missing, missing, _at.Length) || (missing == 0 && numbers && sum == expectation.SumToEqual!.Value);
        }
    }

    /// <summary>
    /// A pair expectation of a column: its kind, its name (<see cref="ColumnPair.Expectation"/>), the other column and where
    /// it is, which rows with missing values it skips, and its offset or ratio (null for a plain pair).
    /// </summary>
    private sealed record CompiledPair(string Kind, string Expectation, string Other, string Input, int Index, string Missing, PairShift? Shift)
    {
        public CompiledPair(string kind, string expectation, string other, (string Input, int Index) at, string missing, PairShift? shift)
            : this(kind, expectation, other, at.Input, at.Index, missing, shift)
        {
        }
    }
}
