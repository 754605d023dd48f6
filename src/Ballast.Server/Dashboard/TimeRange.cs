using System.Globalization;

namespace Ballast.Server.Dashboard;

/// <summary>The period a page charts (<c>?range=15m|1h|6h|24h|7d</c>, 1h by default), cut into equal slices.</summary>
internal sealed record TimeRange(string Name, long From, long To, int Slices)
{
    public static readonly IReadOnlyDictionary<string, TimeSpan> Ranges = new Dictionary<string, TimeSpan>(StringComparer.Ordinal)
    {
        ["15m"] = TimeSpan.FromMinutes(15),
        ["1h"] = TimeSpan.FromHours(1),
        ["6h"] = TimeSpan.FromHours(6),
        ["24h"] = TimeSpan.FromHours(24),
        ["7d"] = TimeSpan.FromDays(7),
    };

    /// <summary>Thirty slices: enough to see a trend, few enough that each is one indexed query.</summary>
    public const int DefaultSlices = 30;

    public long SliceMs => (To - From) / Slices;

    public static TimeRange Of(DashboardContext context)
    {
        var name = context.Query("range") ?? "1h";
        if (!Ranges.TryGetValue(name, out var span))
        {
            throw new DashboardInputException($"range '{name}' is not one of {string.Join(", ", Ranges.Keys)}.");
        }

        var to = context.Now.ToUnixTimeMilliseconds();
        return new TimeRange(name, to - (long)span.TotalMilliseconds, to, DefaultSlices);
    }

    public IEnumerable<(long From, long To)> Each() =>
        Enumerable.Range(0, Slices).Select(i => (From + (i * SliceMs), i == Slices - 1 ? To : From + ((i + 1) * SliceMs) - 1));

    public IReadOnlyList<string> Labels() => Each().Select(slice => Label(slice.To)).ToList();

    public string Label(long at) => DateTimeOffset.FromUnixTimeMilliseconds(at).ToString(To - From > TimeSpan.FromDays(1).TotalMilliseconds ? "MM-dd HH:mm" : "HH:mm", CultureInfo.InvariantCulture);

    /// <summary>Links to the same page over the other ranges.</summary>
    public string Picker(string path) =>
        "<p class=\"ranges\">Range: " + string.Join(" ", Ranges.Keys.Select(key => key == Name
            ? $"<strong>{key}</strong>"
            : $"<a href=\"{Html.Attribute(path + "?range=" + key)}\">{key}</a>")) + "</p>";
}
