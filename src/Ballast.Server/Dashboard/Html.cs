using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Ballast.Server.Dashboard;

/// <summary>
/// Builds a page's HTML. Every text goes through <see cref="Text"/> (HTML-encoded); only markup this code writes
/// itself goes through <see cref="Raw"/>. Numbers are formatted with the invariant culture.
/// </summary>
internal sealed class Html
{
    private readonly StringBuilder _builder = new();

    public Html Raw(string markup)
    {
        _builder.Append(markup);
        return this;
    }

    public Html Text(string? text)
    {
        _builder.Append(Encode(text));
        return this;
    }

    /// <summary>An element with encoded text content: <c>Tag("h2", "Endpoints")</c>, <c>Tag("td", v, "class=\"num\"")</c>.</summary>
    public Html Tag(string tag, string? text, string? attributes = null)
    {
        _builder.Append('<').Append(tag);
        if (attributes is not null)
        {
            _builder.Append(' ').Append(attributes);
        }

        _builder.Append('>').Append(Encode(text)).Append("</").Append(tag).Append('>');
        return this;
    }

    public Html Link(string href, string? text, string? attributes = null) =>
        Raw($"<a href=\"{Attribute(href)}\"{(attributes is null ? "" : " " + attributes)}>").Text(text).Raw("</a>");

    /// <summary>A table: the header cells, then one row of already-built cells each (see <see cref="Cell"/>).</summary>
    public Html Table(IEnumerable<string> headers, IEnumerable<IEnumerable<string>> rows, string? id = null, string empty = "Nothing yet.")
    {
        var all = rows.Select(row => row.ToList()).ToList();
        var head = headers.ToList();
        _builder.Append("<table").Append(id is null ? "" : $" id=\"{Attribute(id)}\"").Append("><thead><tr>");
        foreach (var header in head)
        {
            _builder.Append("<th>").Append(Encode(header)).Append("</th>");
        }

        _builder.Append("</tr></thead><tbody>");
        if (all.Count == 0)
        {
            _builder.Append("<tr><td class=\"empty\" colspan=\"").Append(head.Count.ToString(CultureInfo.InvariantCulture)).Append("\">").Append(Encode(empty)).Append("</td></tr>");
        }

        foreach (var row in all)
        {
            _builder.Append("<tr>");
            foreach (var cell in row)
            {
                _builder.Append(cell);
            }

            _builder.Append("</tr>");
        }

        _builder.Append("</tbody></table>");
        return this;
    }

    public override string ToString() => _builder.ToString();

    public static string Encode(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    public static string Attribute(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    /// <summary>A table cell with encoded text; numbers right-aligned by the class <c>num</c>.</summary>
    public static string Cell(string? text, string? cssClass = null) =>
        cssClass is null ? $"<td>{Encode(text)}</td>" : $"<td class=\"{cssClass}\">{Encode(text)}</td>";

    public static string Cell(double? value, string format = "0.###") => Cell(Number(value, format), "num");

    public static string LinkCell(string href, string? text) => $"<td><a href=\"{Attribute(href)}\">{Encode(text)}</a></td>";

    /// <summary>A cell of markup this code built (a badge, a form).</summary>
    public static string MarkupCell(string markup) => $"<td>{markup}</td>";

    public static string Number(double? value, string format = "0.###") =>
        value is not { } v ? "–" : double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

    public static string Percent(double? value) => value is { } v && !double.IsNaN(v) ? (v * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%" : "–";

    public static string Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? at) => at is { } value ? value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "–";

    /// <summary>A coloured label: <c>ok</c>, <c>warn</c>, <c>bad</c> or <c>info</c>.</summary>
    public static string Badge(string text, string kind) => $"<span class=\"badge {kind}\">{Encode(text)}</span>";

    public static string Path(params string[] segments) => string.Concat(segments.Select((segment, i) => i == 0 ? segment : "/" + Uri.EscapeDataString(segment)));
}
