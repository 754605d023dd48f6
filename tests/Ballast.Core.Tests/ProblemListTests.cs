namespace Ballast.Tests;

public sealed class ProblemListTests
{
    [Fact]
    public void Problems_are_joined_without_the_full_stops_they_end_with()
    {
        ProblemList.Join(["Invalid endpoint 'a': weights sum to 90, not 100.", "b is missing", "c is wrong. "]).ShouldBe("Invalid endpoint 'a': weights sum to 90, not 100; b is missing; c is wrong");
        ProblemList.Join(["waiting...", "v1.2"]).ShouldBe("waiting...; v1.2");
        ProblemList.Join([]).ShouldBe("");
    }

    [Fact]
    public void A_subject_with_problems_that_end_with_a_full_stop_is_one_sentence()
    {
        Ballast.Tracking.TrackingException.Invalid("Invalid thing 'x'", ["a is wrong.", "b is wrong."]).Message.ShouldBe("Invalid thing 'x': a is wrong; b is wrong.");
    }
}
