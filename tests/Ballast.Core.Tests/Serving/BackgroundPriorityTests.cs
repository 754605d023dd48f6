using Ballast.Serving;

namespace Ballast.Tests.Serving;

public sealed class BackgroundPriorityTests
{
    [Fact]
    public void Lowering_a_thread_sets_its_nice_value_and_leaves_the_other_threads_alone()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "nice values are per thread on Linux only");
        var before = BackgroundPriority.CurrentThreadNice();
        (bool Lowered, int? Nice) seen = default;
        var thread = new Thread(() => seen = (BackgroundPriority.LowerCurrentThread(), BackgroundPriority.CurrentThreadNice()));
        thread.Start();
        thread.Join();

        seen.Lowered.ShouldBeTrue();
        seen.Nice.ShouldBe(Math.Max(before ?? 0, BackgroundPriority.Nice));
        BackgroundPriority.CurrentThreadNice().ShouldBe(before, "the calling thread keeps its priority");
    }
}
