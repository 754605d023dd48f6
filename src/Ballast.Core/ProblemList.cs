namespace Ballast;

/// <summary>
/// The one way several problems become one message: joined with <c>; </c>, each without the full stop it may end with
/// (a server's refusal, an exception's message), so that <c>a.; b.</c> never appears; the caller ends the sentence.
/// </summary>
public static class ProblemList
{
    /// <summary><c>a; b; c</c> from <c>a.</c>, <c>b</c>, <c>c.</c>; an ellipsis (<c>…</c>, <c>...</c>) is kept.</summary>
    public static string Join(IEnumerable<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return string.Join("; ", problems.Select(Trimmed));
    }

    /// <summary><paramref name="problem"/> without one closing full stop (and the spaces after it).</summary>
    public static string Trimmed(string problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var text = problem.TrimEnd();
        return text.EndsWith('.') && !text.EndsWith("..", StringComparison.Ordinal) ? text[..^1] : text;
    }
}
