using Ballast.Serving;

namespace Ballast.Tests.Serving;

public sealed class PredictionIdsTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 5, 12, 0, 0, 123, TimeSpan.Zero);

    [Fact]
    public void An_id_is_a_version_7_guid_with_the_variant_bits_and_the_time_in_its_first_48_bits()
    {
        for (var i = 0; i < 1000; i++)
        {
            var id = PredictionIds.NewId(Noon.AddMilliseconds(i));

            id.Version.ShouldBe(7);
            // RFC 9562 variant 10xx: Guid.Variant reports the variant field's top bits (0b10xx is 8 to 11).
            id.Variant.ShouldBeInRange(8, 11);
            var bytes = id.ToByteArray(bigEndian: true);
            var milliseconds = ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
            milliseconds.ShouldBe(Noon.AddMilliseconds(i).ToUnixTimeMilliseconds());
            // The same layout as the runtime's own version 7 ids: their first 6 bytes agree for the same time.
            Guid.CreateVersion7(Noon.AddMilliseconds(i)).ToByteArray(bigEndian: true)[..6].ShouldBe(bytes[..6]);
        }
    }

    [Fact]
    public void Ids_of_later_milliseconds_sort_after_earlier_ones_as_guids_and_as_text()
    {
        var previous = PredictionIds.NewId(Noon);
        for (var i = 1; i < 5000; i++)
        {
            var next = PredictionIds.NewId(Noon.AddMilliseconds(i));
            next.CompareTo(previous).ShouldBePositive();
            string.CompareOrdinal(next.ToString(), previous.ToString()).ShouldBePositive();
            previous = next;
        }
    }

    [Fact]
    public void Ids_drawn_on_many_threads_in_one_millisecond_are_unique_across_buffer_refills()
    {
        // 8 threads x 10,000 ids: each thread refills its 4 KiB buffer about 25 times.
        var drawn = Enumerable.Range(0, 8).Select(_ => new Guid[10_000]).ToList();
        var threads = drawn.Select(ids => new Thread(() =>
        {
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = PredictionIds.NewId(Noon);
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());

        var seen = drawn.SelectMany(ids => ids).ToHashSet();
        seen.Count.ShouldBe(80_000);
        // 74 random bits per id: none of them stuck (each of the 16 bytes' random bits varies).
        var bytes = seen.Select(id => id.ToByteArray(bigEndian: true)).ToList();
        for (var position = 6; position < 16; position++)
        {
            bytes.Select(id => id[position]).Distinct().Count().ShouldBeGreaterThan(position is 6 or 8 ? 15 : 200, $"byte {position}");
        }
    }

    [Fact]
    public void A_time_before_1970_is_refused()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => PredictionIds.NewId(new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero)));
    }
}
