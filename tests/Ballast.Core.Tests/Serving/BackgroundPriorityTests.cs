using Ballast.Serving;

namespace Ballast.Tests.Serving;

public sealed class BackgroundPriorityTests
{
    [Fact]
    public void Lowering_a_thread_sets_its_nice_value_and_leaves_the_other_threads_alone()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "nice values are per thread on Linux only");
        var before = Current();
        var (lowered, seen, started) = LowerOnAThread(idle: false);

        lowered.ShouldBeTrue();
        seen.ShouldBe((before.Policy, Math.Max(before.Nice ?? 0, BackgroundPriority.Nice)));
        started.Nice.ShouldBe(seen.Nice, "a thread it starts inherits its nice value");
        Current().ShouldBe(before, "the calling thread keeps its priority");
    }

    [Fact]
    public void Lowering_a_thread_to_idle_sets_its_policy_which_threads_it_starts_do_not_inherit()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "scheduling policies are per thread on Linux only");
        var before = Current();
        var (lowered, seen, started) = LowerOnAThread(idle: true);

        lowered.ShouldBeTrue();
        seen.ShouldBe((BackgroundPriority.IdlePolicy, before.Nice), "SCHED_IDLE, the nice value left alone");
        started.ShouldBe(before, "a thread it starts (a pool worker it adds, say) runs at the normal priority");
        Current().ShouldBe(before, "the calling thread keeps its priority");
    }

    private static (int? Policy, int? Nice) Current() => (BackgroundPriority.CurrentThreadPolicy(), BackgroundPriority.CurrentThreadNice());

    private static (bool Lowered, (int? Policy, int? Nice) Seen, (int? Policy, int? Nice) Started) LowerOnAThread(bool idle)
    {
        (bool, (int?, int?), (int?, int?)) result = default;
        var thread = new Thread(() =>
        {
            var lowered = BackgroundPriority.LowerCurrentThread(idle);
            (int?, int?) started = default;
            var inner = new Thread(() => started = Current());
            inner.Start();
            inner.Join();
            result = (lowered, Current(), started);
        });
        thread.Start();
        thread.Join();
        return result;
    }
}
