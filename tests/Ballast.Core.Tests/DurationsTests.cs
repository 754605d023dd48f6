namespace Ballast.Tests;

/// <summary>The one duration grammar (Go/Prometheus style), and every form the parsers it replaced took.</summary>
public sealed class DurationsTests
{
    [Theory]
    [InlineData("250ms", 250 * TimeSpan.TicksPerMillisecond)]
    [InlineData("30s", 30 * TimeSpan.TicksPerSecond)]
    [InlineData("10m", 10 * TimeSpan.TicksPerMinute)]
    [InlineData("2h", 2 * TimeSpan.TicksPerHour)]
    [InlineData("7d", 7 * TimeSpan.TicksPerDay)]
    [InlineData("2w", 14 * TimeSpan.TicksPerDay)]
    public void Each_unit_has_its_length(string text, long ticks) => Durations.Parse(text).ShouldBe(new TimeSpan(ticks));

    [Theory]
    [InlineData("1h30m", 5400)]
    [InlineData("1d12h", 129_600)]
    [InlineData("1w1d1h1m", (8 * 86_400) + 3660)]
    [InlineData("2m30s", 150)]
    [InlineData("1s500ms", 1.5)]
    [InlineData("1.5h", 5400)]
    [InlineData("0.5m", 30)]
    [InlineData("1.5h30m", 7200)]
    public void Parts_add_up_largest_unit_first(string text, double seconds) => Durations.Parse(text).ShouldBe(TimeSpan.FromSeconds(seconds));

    [Theory]
    [InlineData("0")]
    [InlineData("0s")]
    [InlineData("0ms")]
    [InlineData("0h0m")]
    [InlineData("0.0s")]
    public void Zero_is_a_duration_and_callers_decide_whether_they_take_it(string text) => Durations.Parse(text).ShouldBe(TimeSpan.Zero);

    [Theory]
    [InlineData(" 30s", 30)]
    [InlineData("30s ", 30)]
    [InlineData("30s\n", 30)] // the rollout and pipeline patterns ended in $, which matches before a final newline (a YAML block scalar)
    [InlineData("\t1h30m ", 5400)]
    public void Spaces_around_a_duration_are_ignored(string text, double seconds) => Durations.Parse(text).ShouldBe(TimeSpan.FromSeconds(seconds));

    [Theory]
    [InlineData("1h 30m")]
    [InlineData("1 h")]
    [InlineData("1h\t30m")]
    public void Spaces_inside_a_duration_are_not(string text) => Durations.Parse(text).ShouldBeNull();

    [Theory]
    [InlineData("-5m")]
    [InlineData("+5m")]
    [InlineData("-0s")]
    [InlineData("1h-30m")]
    public void Signs_are_refused(string text) => Durations.Parse(text).ShouldBeNull();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("soon")]
    [InlineData("30")] // a bare number has no unit (only 0 needs none)
    [InlineData("00")]
    [InlineData("s")]
    [InlineData("ms")]
    [InlineData("30 days")]
    [InlineData("1y")] // a year is not a fixed length
    [InlineData("5M")] // units are lower case: M would be months elsewhere
    [InlineData("5H")]
    [InlineData("1us")]
    [InlineData("1ns")]
    [InlineData("30m1h")] // out of order
    [InlineData("1m1m")] // repeated
    [InlineData("1s1ms1s")]
    [InlineData(".5h")]
    [InlineData("1.h")]
    [InlineData("1..5h")]
    [InlineData("1,5h")]
    [InlineData("1e3s")]
    [InlineData("1h30")] // a last part without unit
    [InlineData("1hh")]
    [InlineData("١s")] // digits other than ASCII ones
    [InlineData("P1D")] // ISO 8601 is not this grammar
    [InlineData("00:30:00")]
    public void Anything_else_is_not_a_duration(string? text) => Durations.Parse(text).ShouldBeNull();

    [Theory]
    [InlineData("999999999999h")]
    [InlineData("99999999999999999999999999999999999999999s")] // more digits than a decimal holds
    [InlineData("10675200d")] // just past TimeSpan.MaxValue (10 675 199 days and a bit)
    [InlineData("1525029w")]
    [InlineData("10675199d3h")]
    [InlineData("9223372036854775807ms")]
    public void Longer_than_a_TimeSpan_holds_is_null_not_an_exception(string text) => Durations.Parse(text).ShouldBeNull();

    [Fact]
    public void The_longest_duration_is_the_longest_TimeSpan_to_the_millisecond()
    {
        Durations.Parse("10675199d2h48m5s477ms").ShouldBe(TimeSpan.FromDays(10_675_199) + new TimeSpan(0, 2, 48, 5, 477));
        Durations.Parse("10675199d2h48m5s477.5807ms").ShouldBe(TimeSpan.MaxValue);
        Durations.Parse("10675199d").ShouldBe(TimeSpan.FromDays(10_675_199));
    }

    [Fact]
    public void Every_form_the_replaced_parsers_took_still_parses_to_the_same_value()
    {
        // Rollouts, monitors and silences: a decimal number, leading zeros, zero, ms/s/m/h.
        Durations.Parse("0.25s").ShouldBe(TimeSpan.FromMilliseconds(250));
        Durations.Parse("007m").ShouldBe(TimeSpan.FromMinutes(7));
        Durations.Parse("99999999h").ShouldBe(TimeSpan.FromHours(99_999_999));
        // Pipelines: up to nine digits.
        Durations.Parse("999999999ms").ShouldBe(TimeSpan.FromMilliseconds(999_999_999));
        Durations.Parse("123456789s").ShouldBe(TimeSpan.FromSeconds(123_456_789));
        // Feature TTLs: s/m/h/d/w up to 100 000 of them.
        Durations.Parse("100000w").ShouldBe(TimeSpan.FromDays(700_000));
        Durations.Parse("90s").ShouldBe(TimeSpan.FromSeconds(90));
        // CUPED lookbacks: d or h.
        Durations.Parse("14d").ShouldBe(TimeSpan.FromDays(14));
        Durations.Parse("36h").ShouldBe(TimeSpan.FromHours(36));
    }

    [Fact]
    public void Fractions_below_a_tick_round_to_the_nearest_tick()
    {
        Durations.Parse("0.00005ms").ShouldBe(TimeSpan.FromTicks(1)); // half a tick rounds away from zero
        Durations.Parse("0.00004ms").ShouldBe(TimeSpan.Zero);
        Durations.Parse("1.0001ms").ShouldBe(TimeSpan.FromTicks(10_001));
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(250 * TimeSpan.TicksPerMillisecond, "250ms")]
    [InlineData(90 * TimeSpan.TicksPerSecond, "1m30s")]
    [InlineData(90 * TimeSpan.TicksPerMinute, "1h30m")]
    [InlineData(30 * TimeSpan.TicksPerDay, "30d")]
    [InlineData(3650 * TimeSpan.TicksPerDay, "3650d")]
    [InlineData(14 * TimeSpan.TicksPerDay, "14d")]
    [InlineData(TimeSpan.TicksPerDay + TimeSpan.TicksPerSecond + 5000, "1d1s0.5ms")]
    [InlineData(1L, "0.0001ms")]
    public void Format_writes_largest_units_first_without_weeks(long ticks, string text) => Durations.Format(new TimeSpan(ticks)).ShouldBe(text);

    [Fact]
    public void Format_refuses_a_negative_duration() => Should.Throw<ArgumentOutOfRangeException>(() => Durations.Format(TimeSpan.FromSeconds(-1)));

    [Fact]
    public void What_Format_writes_Parse_reads_back_exactly()
    {
        var random = new Random(20261206);
        var samples = new List<TimeSpan> { TimeSpan.Zero, TimeSpan.MaxValue, TimeSpan.FromTicks(1), TimeSpan.FromDays(7), TimeSpan.FromMilliseconds(999) };
        for (var i = 0; i < 2000; i++)
        {
            samples.Add(TimeSpan.FromTicks(random.NextInt64(0, i % 2 == 0 ? TimeSpan.TicksPerDay * 3 : TimeSpan.MaxValue.Ticks)));
        }

        foreach (var sample in samples)
        {
            Durations.Parse(Durations.Format(sample)).ShouldBe(sample, Durations.Format(sample));
        }
    }
}
