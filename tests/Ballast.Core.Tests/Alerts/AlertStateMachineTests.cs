using Ballast.Alerts;

namespace Ballast.Tests.Alerts;

/// <summary>The window state machine alone (Prometheus/Grafana semantics: pending for fewer than `for` windows, firing, resolved, inactive).</summary>
public sealed class AlertStateMachineTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static readonly AlertRuleSpec Rule = AlertRuleValidation.Validate(new AlertRuleSpec("drift-high", "iris-drift", "drift.share", ">", 0.3, For: 2));

    private static (List<string> States, List<string?> Notified) Run(AlertRuleSpec rule, params double?[] values)
    {
        var state = AlertState.Initial(rule, Start);
        var states = new List<string>();
        var notified = new List<string?>();
        for (var i = 0; i < values.Length; i++)
        {
            var observation = Window(i, values[i]);
            var step = AlertStateMachine.Next(state, rule, observation, Start);
            state = step?.Next ?? state;
            states.Add(state.State);
            notified.Add(step?.Notify);
        }

        return (states, notified);
    }

    private static MetricObservation Window(int i, double? value) => new("iris-drift", $"w{i}", Start.AddHours(i), Start.AddHours(i + 1),
        value is { } v ? new Dictionary<string, double> { ["drift.share"] = v } : new Dictionary<string, double> { ["drift.amount"] = 1 },
        new Dictionary<string, string>(), new Dictionary<string, string>());

    [Fact]
    public void With_for_2_two_true_windows_fire_and_notify_once()
    {
        var (states, notified) = Run(Rule, 0.5, 0.5, 0.6);
        states.ShouldBe(["pending", "firing", "firing"]);
        notified.ShouldBe([null, "firing", null]);
    }

    [Fact]
    public void Row_windows_ending_in_one_millisecond_each_count_but_one_seen_again_does_not()
    {
        // Exact row windows of records logged in one millisecond end in that millisecond: their ids say which is later.
        MetricObservation Row(long id) => new("iris-drift", id.ToString(System.Globalization.CultureInfo.InvariantCulture), Start, Start.AddMilliseconds(1),
            new Dictionary<string, double> { ["drift.share"] = 0.5 }, new Dictionary<string, string>(), new Dictionary<string, string>());
        var state = AlertState.Initial(Rule, Start);
        var first = AlertStateMachine.Next(state, Rule, Row(9), Start)!;
        first.Next.State.ShouldBe("pending");
        var second = AlertStateMachine.Next(first.Next, Rule, Row(10), Start)!;
        (second.Next.State, second.Notify).ShouldBe(("firing", "firing"), "window 10 ends with window 9 but comes after it (9 < 10 as numbers, not as text)");
        AlertStateMachine.Next(second.Next, Rule, Row(10), Start).ShouldBeNull("the same window again");
        AlertStateMachine.Next(second.Next, Rule, Row(9), Start).ShouldBeNull("an earlier window of the same millisecond");
    }

    [Fact]
    public void True_false_true_is_pending_again_not_firing()
    {
        var (states, notified) = Run(Rule, 0.5, 0.1, 0.5);
        states.ShouldBe(["pending", "inactive", "pending"]);
        notified.ShouldAllBe(n => n == null);
    }

    [Fact]
    public void A_false_window_resolves_a_firing_alert_once_and_the_next_makes_it_inactive()
    {
        var (states, notified) = Run(Rule, 0.5, 0.5, 0.1, 0.1);
        states.ShouldBe(["pending", "firing", "resolved", "inactive"]);
        notified.ShouldBe([null, "firing", "resolved", null]);
    }

    [Fact]
    public void No_data_keeps_the_state_and_does_not_count_as_a_window()
    {
        // pending, no data, true: the two true windows are consecutive among windows with data, so it fires.
        var (states, notified) = Run(Rule, 0.5, null, 0.5, null, null, 0.1);
        states.ShouldBe(["pending", "pending", "firing", "firing", "firing", "resolved"]);
        notified.ShouldBe([null, null, "firing", null, null, "resolved"]);
    }

    [Fact]
    public void A_window_already_seen_changes_nothing()
    {
        var rule = Rule with { For = 1 };
        var state = AlertState.Initial(rule, Start);
        var fired = AlertStateMachine.Next(state, rule, Window(0, 0.9), Start)!;
        fired.Notify.ShouldBe("firing");
        AlertStateMachine.Next(fired.Next, rule, Window(0, 0.9), Start).ShouldBeNull();
    }

    [Fact]
    public void A_firing_whose_receivers_were_not_told_owes_its_notification_while_it_holds_and_resolves_without_one()
    {
        // Alertmanager: a resolved notification only goes to receivers that heard the firing one.
        var rule = Rule with { For = 1 };
        var fired = AlertStateMachine.Next(AlertState.Initial(rule, Start), rule, Window(0, 0.9), Start)!;
        (fired.Notify, fired.Next.Notified).ShouldBe(("firing", true));
        var silenced = fired.Next with { Notified = false };

        var held = AlertStateMachine.Next(silenced, rule, Window(1, 0.8), Start)!;
        (held.Next.State, held.Notify, held.Next.Notified).ShouldBe(("firing", "firing", true));
        var resolved = AlertStateMachine.Next(silenced, rule, Window(1, 0.1), Start)!;
        (resolved.Next.State, resolved.Notify, resolved.Next.Notified).ShouldBe(("resolved", (string?)null, false));
        AlertStateMachine.Next(fired.Next, rule, Window(1, 0.8), Start)!.Notify.ShouldBeNull();
        AlertStateMachine.Next(fired.Next, rule, Window(1, 0.1), Start)!.Notify.ShouldBe("resolved");
    }

    [Fact]
    public void Firing_records_when_the_condition_began_and_resolving_when_it_ended()
    {
        var state = AlertState.Initial(Rule, Start);
        state = AlertStateMachine.Next(state, Rule, Window(0, 0.5), Start)!.Next;
        state = AlertStateMachine.Next(state, Rule, Window(1, 0.5), Start)!.Next;
        (state.State, state.StartsAt, state.Consecutive).ShouldBe(("firing", Start, 2));
        state = AlertStateMachine.Next(state, Rule, Window(2, 0.1), Start)!.Next;
        (state.State, state.EndsAt).ShouldBe(("resolved", Start.AddHours(2)));
    }

    [Fact]
    public void Over_random_window_sequences_notifications_alternate_and_firing_needs_for_windows_in_a_row()
    {
        var random = new Random(17);
        for (var run = 0; run < 500; run++)
        {
            var rule = Rule with { For = random.Next(1, 5) };
            var state = AlertState.Initial(rule, Start);
            var held = 0;
            string? lastNotified = null;
            for (var i = 0; i < 40; i++)
            {
                var roll = random.Next(3);
                double? value = roll == 0 ? null : roll == 1 ? 0.9 : 0.1;
                var before = state.State;
                var step = AlertStateMachine.Next(state, rule, Window(i, value), Start);
                if (value is null)
                {
                    step.ShouldBeNull("no data changes nothing");
                    continue;
                }

                held = value > 0.3 ? held + 1 : 0;
                state = step!.Next;
                state.Consecutive.ShouldBe(held);
                var expected = held >= rule.For ? "firing" : held > 0 ? "pending" : before == "firing" ? "resolved" : "inactive";
                state.State.ShouldBe(expected, $"run {run}, window {i}, for {rule.For}");
                if (step.Notify is { } notified)
                {
                    notified.ShouldNotBe(lastNotified, "firing and resolved alternate");
                    (notified == "firing" ? before != "firing" && held == rule.For : before == "firing").ShouldBeTrue();
                    lastNotified = notified;
                }
            }
        }
    }

    [Theory]
    [InlineData(">", 0.3, false)]
    [InlineData(">=", 0.3, true)]
    [InlineData("<", 0.3, false)]
    [InlineData("<=", 0.3, true)]
    [InlineData("==", 0.3, true)]
    [InlineData("!=", 0.3, false)]
    public void Operators_compare_the_value_with_the_threshold(string op, double threshold, bool holds) =>
        AlertCondition.Holds(0.3, op, threshold).ShouldBe(holds);

    [Fact]
    public void Validation_lists_every_problem_at_once()
    {
        var exception = Should.Throw<Ballast.Tracking.TrackingException>(() => AlertRuleValidation.Validate(new AlertRuleSpec("Bad Name", "", null, "=>", double.NaN, For: 0, Severity: "page",
            Actions: [new AlertAction("email"), new AlertAction("webhook", "ftp://x", Format: "teams"), new AlertAction("pipeline")])));
        exception.Message.ShouldBe("Invalid alert rule 'Bad Name': name 'Bad Name' must be 1 to 63 lowercase letters, digits or '-', starting with a letter; " +
            "source: name the monitor whose windows the rule watches; metric: name the metric to compare, such as drift.share; operator '=>' is not one of > >= < <= == !=; " +
            "threshold NaN must be a finite number; for 0 must be between 1 and 1000 consecutive windows; severity 'page' is not one of info, warning, critical; " +
            "actions[0].type 'email' is not webhook or pipeline; actions[1].url 'ftp://x' is not an absolute http or https URL; actions[1].format 'teams' is not json or slack; " +
            "actions[2].pipeline: name the pipeline to start.");
    }

    [Fact]
    public void Validation_fills_the_defaults()
    {
        var rule = AlertRuleValidation.Validate(new AlertRuleSpec("r", "m", "errors.rate", ">", 0.1, Actions: [new AlertAction("webhook", "http://127.0.0.1:9/hook")]));
        (rule.For, rule.Severity, rule.Actions![0].Format).ShouldBe((1, "warning", "json"));
    }
}
