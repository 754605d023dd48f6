using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Tracking;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Serving;

public sealed class RegimeTests
{
    private static Tensor Row(params float[] values) => new("x", TensorDatatypes.Fp32, [1, values.Length], values);

    [Fact]
    public void A_signal_switches_regimes_only_past_the_hysteresis_and_after_the_dwell_time()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        var state = new RegimeState(new RegimeSpec("volatility", Thresholds: [0.5, 1.0], Variants: ["calm", "normal", "wild"], Hysteresis: 0.1, MinDwellSeconds: 10), time);
        long at = 0;
        time.Advance(TimeSpan.FromSeconds(10));

        state.Post(0.55, ++at);
        state.Regime.ShouldBe(0, "0.55 is past 0.5 but not past 0.5 + 0.1");
        state.Post(0.65, ++at);
        state.Regime.ShouldBe(1);
        state.Post(0.45, ++at);
        state.Regime.ShouldBe(1, "0.45 is below 0.5 but not below 0.5 - 0.1");
        state.Post(0.3, ++at);
        state.Regime.ShouldBe(1, "the regime has not lasted 10 s yet");
        time.Advance(TimeSpan.FromSeconds(10));
        state.Post(0.3, ++at);
        state.Regime.ShouldBe(0);
        time.Advance(TimeSpan.FromSeconds(10));
        state.Post(5, ++at);
        state.Regime.ShouldBe(2, "a jump crosses several thresholds at once");
        state.Post(0, at - 1);
        state.Regime.ShouldBe(2, "an older posted value is ignored");
        state.Signal.ShouldBe(5);
    }

    [Fact]
    public void The_detector_computes_the_rolling_standard_deviation_of_a_column()
    {
        var time = new FakeTimeProvider();
        var state = new RegimeState(new RegimeSpec(Detector: new RegimeDetectorSpec("x", Index: 1, Window: 4), Thresholds: [1.0], Variants: ["a", "b"]), time);
        foreach (var value in new[] { 2f, 4f, 4f })
        {
            state.Observe([Row(100, value)]);
        }

        double.IsNaN(state.Signal).ShouldBeTrue("the window is not full yet");
        state.Observe([Row(100, 5)]);
        // Sample standard deviation of 2, 4, 4, 5 (numpy.std(ddof=1)): 1.2583057392117916.
        state.Signal.ShouldBe(1.2583057392117916, 1e-12);
        state.Regime.ShouldBe(1);
        // The window slides: 4, 4, 5, 5 → 0.5773502691896258.
        state.Observe([Row(100, 5)]);
        state.Signal.ShouldBe(0.5773502691896258, 1e-12);
        state.Regime.ShouldBe(0);
    }

    [Theory]
    [InlineData(">=", 60.0, null, 61f, true)]
    [InlineData(">=", 60.0, null, 59f, false)]
    [InlineData("<", 60.0, null, 59f, true)]
    [InlineData("!=", 1.0, null, 1f, false)]
    public void Rules_compare_the_first_row(string op, double value, string? text, float actual, bool matches) =>
        new RegimeRule("x", op, value, text, Index: 0, Variant: "b").Matches([Row(actual, 0)]).ShouldBe(matches);

    // FP16 elements are System.Half, which Convert.ToDouble does not take: every request once failed with a 500.
    [Fact]
    public void Rules_and_detectors_read_half_precision_inputs()
    {
        var half = new Tensor("x", TensorDatatypes.Fp16, [2, 1], new[] { (Half)61, (Half)59 });
        new RegimeRule("x", ">=", 60, Variant: "b").Matches([half]).ShouldBeTrue();
        new RegimeRule("x", ">=", 60, Index: 1, Variant: "b").Matches([half]).ShouldBeFalse();
        var state = new RegimeState(new RegimeSpec(Detector: new RegimeDetectorSpec("x", Statistic: RegimeDetectorSpec.Mean, Window: 2), Thresholds: [100], Variants: ["a", "b"]), TimeProvider.System);
        state.Observe([half]);
        state.Signal.ShouldBe(60);
    }

    [Fact]
    public void Text_rules_match_string_inputs_and_missing_inputs_never_match()
    {
        var rule = new RegimeRule("sex", "==", Text: "female", Variant: "b");
        rule.Matches([new Tensor("sex", TensorDatatypes.Bytes, [1, 1], new[] { "female" })]).ShouldBeTrue();
        rule.Matches([new Tensor("sex", TensorDatatypes.Bytes, [1, 1], new[] { "male" })]).ShouldBeFalse();
        rule.Matches([Row(1)]).ShouldBeFalse();
    }

    [Fact]
    public void Bad_regime_settings_are_refused_together()
    {
        VariantSpec[] variants = [new("a", "models:/m/1"), new("b", "models:/m/2")];
        EndpointValidation.Validate(new EndpointSpec("e", null, variants, Regime: new RegimeSpec("v", Thresholds: [0.5], Variants: ["a", "b"]))).Policy.ShouldBe("regime");
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(new EndpointSpec("e", "regime", variants,
            Regime: new RegimeSpec(Thresholds: [1, 0.5], Variants: ["a", "z"], Hysteresis: -1, Rules: [new RegimeRule("x", "~", 1, Variant: "b"), new RegimeRule("y", "<", 1, Index: -1, Variant: "b")]))))
            .Message.ShouldBe("Invalid endpoint 'e': regime: 2 thresholds make 3 regimes, but 2 variants are named for them; regime: thresholds must be finite and strictly ascending; " +
                "regime: thresholds need a signal name (values posted to /api/v1/endpoints/{name}/signals) or a detector; regime: 'z' is not one of the variants (a, b); " +
                "regime rule on 'x': give input, op (< <= > >= == !=) and a numeric value, or a text with == or !=, and a column index ≥ 0; regime rule on 'y': give input, op (< <= > >= == !=) and a numeric value, or a text with == or !=, and a column index ≥ 0; regime: hysteresis and min_dwell_seconds cannot be negative.");
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(new EndpointSpec("e", "regime", variants)))
            .Message.ShouldBe("Invalid endpoint 'e': policy 'regime' needs regime settings: rules, or thresholds and variants with a signal or a detector.");
    }
}
