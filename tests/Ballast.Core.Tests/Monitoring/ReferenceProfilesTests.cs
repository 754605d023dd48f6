using Ballast.Monitoring;

namespace Ballast.Tests.Monitoring;

/// <summary>The in-memory reference profiles: hits and misses, least recently used dropped within the bound, an entry larger than the bound not kept, 0 off.</summary>
public sealed class ReferenceProfilesTests
{
    [Fact]
    public void Entries_are_kept_within_the_bound_dropping_the_least_recently_used_first()
    {
        var recorder = new ReferenceCacheRecorder();
        var profiles = new ReferenceProfiles(250, observer: recorder);
        var made = 0;
        string Get(string key) => profiles.GetOrAdd(ReferenceProfiles.Profile, key, () => ($"{key}-{++made}", 100));

        Get("a").ShouldBe("a-1");
        Get("b").ShouldBe("b-2");
        Get("a").ShouldBe("a-1", "a hit: not made again");
        Get("c").ShouldBe("c-3");
        profiles.Bytes.ShouldBe(200);
        Get("a").ShouldBe("a-1", "b, the least recently used, was dropped for c");
        Get("b").ShouldBe("b-4");
        recorder.Events.ShouldBe(["profile:miss", "profile:miss", "profile:hit", "profile:miss", "profile:dropped", "profile:hit", "profile:miss", "profile:dropped"]);
        profiles.TryGet<string>(ReferenceProfiles.Traffic, "c").ShouldBeNull("c went for b");
    }

    [Fact]
    public void An_entry_larger_than_the_bound_is_not_kept_and_a_zero_bound_keeps_nothing()
    {
        var recorder = new ReferenceCacheRecorder();
        var profiles = new ReferenceProfiles(99, observer: recorder);
        profiles.GetOrAdd(ReferenceProfiles.Traffic, "big", () => ("x", 100)).ShouldBe("x");
        profiles.Bytes.ShouldBe(0);
        recorder.Events.ShouldBe(["traffic:miss", "traffic:too_large"]);

        var off = new ReferenceProfiles(0, observer: recorder);
        off.GetOrAdd(ReferenceProfiles.Profile, "a", () => ("y", 1)).ShouldBe("y");
        off.TryGet<string>(ReferenceProfiles.Profile, "a").ShouldBeNull();
        recorder.Events.Count.ShouldBe(2, "an off cache reports nothing");
    }

    [Fact]
    public void The_size_estimate_counts_a_reference_per_row_and_each_boxed_number_or_string()
    {
        // 32 for the list, 8 per row; 24 per boxed double; 22 + 2 per char per string (a .NET string's header and UTF-16).
        ReferenceProfiles.Estimate(new List<object?> { 1.0, null, "abc" }).ShouldBe(32 + (3 * 8) + 24 + (22 + 6));
    }
}
