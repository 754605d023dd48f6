using System.Globalization;
using System.Text;

namespace Ballast.Tracking.Search;

/// <summary>
/// Parses MLflow's search filter grammar: comparisons joined by <c>AND</c> (case-insensitive), each
/// <c>[kind.]key comparator value</c>. Keys may be backquoted or double-quoted to hold spaces or dots
/// (<c>metrics.`f1 score`</c>); strings are single- or double-quoted; <c>IN</c>/<c>NOT IN</c> take a
/// parenthesised list of strings. Which keys and comparators are allowed is decided by the caller.
/// Errors are <see cref="TrackingException"/> INVALID_PARAMETER_VALUE naming what was wrong.
/// </summary>
public static class SearchFilterParser
{
    private static readonly string[] Comparators = ["<=", ">=", "!=", "=", "<", ">"];

    public static IReadOnlyList<SearchClause> Parse(string? filter)
    {
        var clauses = new List<SearchClause>();
        if (string.IsNullOrWhiteSpace(filter))
        {
            return clauses;
        }

        var reader = new Reader(filter);
        while (true)
        {
            clauses.Add(ParseClause(reader, filter));
            reader.SkipSpace();
            if (reader.AtEnd)
            {
                return clauses;
            }

            if (!reader.TryWord("AND"))
            {
                throw Error(filter, $"expected AND or the end of the filter at position {reader.Position}, found '{reader.Rest}'");
            }
        }
    }

    private static SearchClause ParseClause(Reader reader, string filter)
    {
        reader.SkipSpace();
        var (kind, key) = ParseKey(reader, filter);
        reader.SkipSpace();
        var comparator = ParseComparator(reader, filter, key);
        reader.SkipSpace();
        SearchValue value;
        if (comparator is "IN" or "NOT IN")
        {
            value = SearchValue.OfList(ParseList(reader, filter));
        }
        else if (reader.Peek is '\'' or '"')
        {
            value = SearchValue.OfText(ReadQuoted(reader, filter));
        }
        else
        {
            var token = reader.ReadWhile(c => !char.IsWhiteSpace(c));
            if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                throw Error(filter, token.Length == 0
                    ? $"'{key}' {comparator} needs a value"
                    : $"the value {token} of '{key}' must be a number or a quoted string");
            }

            value = SearchValue.OfNumber(number);
        }

        return new SearchClause(kind, key, comparator, value);
    }

    private static (SearchKeyKind Kind, string Key) ParseKey(Reader reader, string filter)
    {
        string first;
        if (reader.Peek is '`' or '"')
        {
            first = ReadQuoted(reader, filter);
            return (SearchKeyKind.Attribute, first);
        }

        first = reader.ReadWhile(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '/' or ':');
        if (first.Length == 0)
        {
            throw Error(filter, $"expected a key at position {reader.Position}, found '{reader.Rest}'");
        }

        if (reader.Peek != '.')
        {
            return (SearchKeyKind.Attribute, first);
        }

        var kind = first.ToLowerInvariant() switch
        {
            "attribute" or "attributes" or "attr" or "run" => SearchKeyKind.Attribute,
            "tag" or "tags" => SearchKeyKind.Tag,
            "param" or "params" or "parameter" or "parameters" => SearchKeyKind.Param,
            "metric" or "metrics" => SearchKeyKind.Metric,
            "dataset" or "datasets" => SearchKeyKind.Dataset,
            _ => throw Error(filter, $"'{first}' is not a key type; use attributes, tags, params, metrics or datasets"),
        };
        reader.Advance();
        var key = reader.Peek is '`' or '"'
            ? ReadQuoted(reader, filter)
            : reader.ReadWhile(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or ':');
        if (key.Length == 0)
        {
            throw Error(filter, $"'{first}.' needs a key name");
        }

        return (kind, key);
    }

    private static string ParseComparator(Reader reader, string filter, string key)
    {
        foreach (var symbol in Comparators)
        {
            if (reader.TrySymbol(symbol))
            {
                return symbol;
            }
        }

        if (reader.TryWord("LIKE"))
        {
            return "LIKE";
        }

        if (reader.TryWord("ILIKE"))
        {
            return "ILIKE";
        }

        if (reader.TryWord("IN"))
        {
            return "IN";
        }

        if (reader.TryWord("NOT"))
        {
            reader.SkipSpace();
            if (reader.TryWord("IN"))
            {
                return "NOT IN";
            }
        }

        throw Error(filter, $"expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN) after '{key}', found '{reader.Rest}'");
    }

    private static List<string> ParseList(Reader reader, string filter)
    {
        if (!reader.TrySymbol("("))
        {
            throw Error(filter, "IN and NOT IN need a parenthesised list of quoted strings, e.g. ('a', 'b')");
        }

        var values = new List<string>();
        while (true)
        {
            reader.SkipSpace();
            if (reader.Peek is not ('\'' or '"'))
            {
                throw Error(filter, "IN and NOT IN lists may hold only quoted strings");
            }

            values.Add(ReadQuoted(reader, filter));
            reader.SkipSpace();
            if (reader.TrySymbol(")"))
            {
                return values;
            }

            if (!reader.TrySymbol(","))
            {
                throw Error(filter, "expected ',' or ')' in the IN list");
            }
        }
    }

    private static string ReadQuoted(Reader reader, string filter)
    {
        var quote = reader.Peek;
        reader.Advance();
        var text = new StringBuilder();
        while (!reader.AtEnd)
        {
            var c = reader.Peek;
            reader.Advance();
            if (c == quote)
            {
                // A doubled quote stands for the quote itself, as in SQL.
                if (reader.Peek == quote)
                {
                    reader.Advance();
                    text.Append(c);
                    continue;
                }

                return text.ToString();
            }

            text.Append(c);
        }

        throw Error(filter, $"a string or key opened with {quote} is not closed");
    }

    private static TrackingException Error(string filter, string reason) =>
        TrackingException.Invalid($"Invalid filter '{filter}': {reason}.");

    private sealed class Reader(string text)
    {
        public int Position { get; private set; }

        public bool AtEnd => Position >= text.Length;

        public char Peek => AtEnd ? '\0' : text[Position];

        public string Rest => text[Position..];

        public void Advance() => Position++;

        public void SkipSpace()
        {
            while (!AtEnd && char.IsWhiteSpace(text[Position]))
            {
                Position++;
            }
        }

        public string ReadWhile(Func<char, bool> accept)
        {
            var start = Position;
            while (!AtEnd && accept(text[Position]))
            {
                Position++;
            }

            return text[start..Position];
        }

        public bool TrySymbol(string symbol)
        {
            if (string.CompareOrdinal(text, Position, symbol, 0, symbol.Length) != 0)
            {
                return false;
            }

            Position += symbol.Length;
            return true;
        }

        /// <summary>A keyword, case-insensitive, followed by a non-letter.</summary>
        public bool TryWord(string word)
        {
            if (Position + word.Length > text.Length || string.Compare(text, Position, word, 0, word.Length, StringComparison.OrdinalIgnoreCase) != 0)
            {
                return false;
            }

            var next = Position + word.Length;
            if (next < text.Length && (char.IsLetterOrDigit(text[next]) || text[next] == '_'))
            {
                return false;
            }

            Position = next;
            return true;
        }
    }
}
