using System.Globalization;

namespace Ballast.Features;

/// <summary>
/// An on-demand feature's arithmetic over named values: numbers, names (request fields and looked-up features),
/// <c>+ - * /</c>, unary minus and parentheses. Compiled once; evaluated per row. A missing name or a division by zero
/// gives null (the feature is missing for that row).
/// </summary>
public sealed class OnDemandExpression
{
    private readonly Node _root;

    private OnDemandExpression(string text, Node root, IReadOnlyList<string> names)
    {
        Text = text;
        _root = root;
        Names = names;
    }

    /// <summary>The same arithmetic in DuckDB SQL (names quoted and cast to DOUBLE, x / 0 is NULL), for training sets.</summary>
    public string Sql => _root.Sql;

    public string Text { get; }

    /// <summary>The names the expression reads, in order of first appearance.</summary>
    public IReadOnlyList<string> Names { get; }

    public double? Evaluate(Func<string, double?> value) => _root.Evaluate(value);

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> saying where it went wrong.</summary>
    public static OnDemandExpression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new Parser(text);
        var evaluate = parser.Sum();
        parser.SkipSpaces();
        if (parser.Position < text.Length)
        {
            throw new FormatException($"unexpected '{text[parser.Position]}' at position {parser.Position + 1}");
        }

        return new OnDemandExpression(text, evaluate, parser.Names);
    }

    private sealed class Parser(string text)
    {
        public int Position { get; private set; }

        public List<string> Names { get; } = [];

        public void SkipSpaces()
        {
            while (Position < text.Length && char.IsWhiteSpace(text[Position]))
            {
                Position++;
            }
        }

        public Node Sum()
        {
            var left = Product();
            while (true)
            {
                SkipSpaces();
                if (Position >= text.Length || text[Position] is not ('+' or '-'))
                {
                    return left;
                }

                var op = text[Position++];
                var right = Product();
                var l = left;
                left = op == '+'
                    ? new Node(values => l.Evaluate(values) + right.Evaluate(values), $"({l.Sql} + {right.Sql})")
                    : new Node(values => l.Evaluate(values) - right.Evaluate(values), $"({l.Sql} - {right.Sql})");
            }
        }

        private Node Product()
        {
            var left = Unary();
            while (true)
            {
                SkipSpaces();
                if (Position >= text.Length || text[Position] is not ('*' or '/'))
                {
                    return left;
                }

                var op = text[Position++];
                var right = Unary();
                var l = left;
                left = op == '*'
                    ? new Node(values => l.Evaluate(values) * right.Evaluate(values), $"({l.Sql} * {right.Sql})")
                    : new Node(values => right.Evaluate(values) is { } divisor && divisor != 0 ? l.Evaluate(values) / divisor : null, $"({l.Sql} / NULLIF({right.Sql}, 0))");
            }
        }

        private Node Unary()
        {
            SkipSpaces();
            if (Position < text.Length && text[Position] == '-')
            {
                Position++;
                var operand = Unary();
                return new Node(values => -operand.Evaluate(values), $"(-{operand.Sql})");
            }

            return Atom();
        }

        private Node Atom()
        {
            SkipSpaces();
            if (Position >= text.Length)
            {
                throw new FormatException("the expression ends where a number, a name or '(' should be");
            }

            var start = Position;
            var c = text[Position];
            if (c == '(')
            {
                Position++;
                var inner = Sum();
                SkipSpaces();
                if (Position >= text.Length || text[Position] != ')')
                {
                    throw new FormatException($"'(' at position {start + 1} is not closed");
                }

                Position++;
                return inner;
            }

            if (char.IsAsciiDigit(c) || c == '.')
            {
                while (Position < text.Length && (char.IsAsciiDigit(text[Position]) || text[Position] == '.'))
                {
                    Position++;
                }

                if (!double.TryParse(text.AsSpan(start, Position - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                {
                    throw new FormatException($"'{text[start..Position]}' at position {start + 1} is not a number");
                }

                return new Node(_ => number, number.ToString("R", CultureInfo.InvariantCulture) + "::DOUBLE");
            }

            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (Position < text.Length && (char.IsAsciiLetterOrDigit(text[Position]) || text[Position] == '_'))
                {
                    Position++;
                }

                var name = text[start..Position];
                if (!Names.Contains(name))
                {
                    Names.Add(name);
                }

                return new Node(values => values(name), $"CAST(\"{name}\" AS DOUBLE)");
            }

            throw new FormatException($"unexpected '{c}' at position {start + 1}");
        }
    }

    private sealed record Node(Func<Func<string, double?>, double?> Evaluate, string Sql);
}
