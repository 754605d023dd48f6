using Ballast.Monitoring.Quality;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>The check every "a bad suite is refused naming the field" theory makes: one of the suite's problems starts with the message.</summary>
internal static class SuiteProblems
{
    /// <summary>Reads <paramref name="json"/> and asserts that one of its problems starts with <paramref name="problem"/> (listing them all if none does).</summary>
    public static void ShouldInclude(string json, string problem)
    {
        var problems = ExpectationSuiteReader.Parse(json).Validate();

        problems.ShouldContain(message => message.StartsWith(problem, StringComparison.Ordinal), string.Join(" | ", problems));
    }
}
