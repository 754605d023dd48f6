using Ballast.Serving;

namespace Ballast.Tests.Serving;

public sealed class BackgroundPriorityTests
{
    [Fact]
    public void Lowering_a_thread_makes_it_idle_and_leaves_the_other_threads_alone()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "scheduling policies are per thread on Linux only");
        var before = (Policy: BackgroundPriority.CurrentThreadPolicy(), Nice: BackgroundPriority.CurrentThreadNice());
        (bool Lowered, int? Policy, int? Nice) lowered = default;
        (int? Policy, int? Nice) started = default;
        var thread = new Thread(() =>
        {
            lowered = (BackgroundPriority.LowerCurrentThread(), BackgroundPriority.CurrentThreadPolicy(), BackgroundPriority.CurrentThreadNice());
            // A thread the lowered one starts (a pool worker it adds, say) is not lowered with it.
            var inner = new Thread(() => started = (BackgroundPriority.CurrentThreadPolicy(), BackgroundPriority.CurrentThreadNice()));
            inner.Start();
            inner.Join();
        });
        thread.Start();
        thread.Join();

        lowered.Lowered.ShouldBeTrue();
        lowered.Policy.ShouldBe(BackgroundPriority.IdlePolicy);
        lowered.Nice.ShouldBe(before.Nice, "SCHED_IDLE leaves the nice value, which new threads would inherit");
        started.ShouldBe(before, "new threads start at the normal priority");
        (BackgroundPriority.CurrentThreadPolicy(), BackgroundPriority.CurrentThreadNice()).ShouldBe(before, "the calling thread keeps its priority");
    }
}
