using System.Text.Json;

namespace Ballast.Features;

/// <summary>A consistency check of one view: entities sampled, how many the online store disagrees on, and a few of them.</summary>
public sealed record ViewConsistency(string View, string Source, long Sampled, long Skewed, IReadOnlyList<string> Examples);

/// <summary>The check of a service: its views, and the skew rate over all sampled entities (0 when none were sampled).</summary>
public sealed record ConsistencyReport(string Service, long At, double SkewRate, long Sampled, long Skewed, IReadOnlyList<ViewConsistency> Views);

/// <summary>
/// Compares what the online store serves with an offline recomputation: per view of a service, a seeded reservoir
/// sample of the entities the offline store has up to now, their latest values recomputed from the source, and the
/// online row of each. An entity whose online row is absent, from another event time, or has other values is skewed.
/// </summary>
public sealed class FeatureConsistency(OfflineStore offline, IOnlineStore online, TimeProvider time)
{
    public const int MaxExamples = 5;

    public async Task<ConsistencyReport> CheckAsync(ResolvedService service, int sample, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentOutOfRangeException.ThrowIfLessThan(sample, 1);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var views = new List<ViewConsistency>();
        foreach (var (view, _) in service.ByView)
        {
            var random = new Random(seed);
            var reservoir = new List<OnlineRow>(sample);
            long seen = 0;
            var (version, _, _, _) = await offline.LatestAsync(view, null, now, FeatureMaterializer.BatchSize, batch =>
            {
                foreach (var row in batch)
                {
                    seen++;
                    if (reservoir.Count < sample)
                    {
                        reservoir.Add(row);
                    }
                    else if (random.NextInt64(seen) is var slot && slot < sample)
                    {
                        reservoir[(int)slot] = row;
                    }
                }

                return Task.CompletedTask;
            }, cancellationToken: cancellationToken).ConfigureAwait(false);

            var stored = await online.ReadAsync(view.Name, reservoir.Select(row => row.EntityKey).ToList(), cancellationToken).ConfigureAwait(false);
            var examples = new List<string>();
            long skewed = 0;
            for (var i = 0; i < reservoir.Count; i++)
            {
                var reason = Difference(view, reservoir[i], stored[i]);
                if (reason is null)
                {
                    continue;
                }

                skewed++;
                if (examples.Count < MaxExamples)
                {
                    examples.Add($"{reservoir[i].EntityKey}: {reason}");
                }
            }

            views.Add(new ViewConsistency(view.Name, version, reservoir.Count, skewed, examples));
        }

        var sampled = views.Sum(view => view.Sampled);
        var total = views.Sum(view => view.Skewed);
        return new ConsistencyReport(service.Name, now, sampled == 0 ? 0 : (double)total / sampled, sampled, total, views);
    }

    private static string? Difference(ResolvedView view, OnlineRow offline, OnlineRow? online)
    {
        if (online is null)
        {
            return "not in the online store";
        }

        if (online.EventAt != offline.EventAt)
        {
            return $"online value is from {DateTimeOffset.FromUnixTimeMilliseconds(online.EventAt):O}, offline from {DateTimeOffset.FromUnixTimeMilliseconds(offline.EventAt):O}";
        }

        using var expected = JsonDocument.Parse(offline.Values);
        using var actual = JsonDocument.Parse(online.Values);
        foreach (var feature in view.Features)
        {
            var a = expected.RootElement.TryGetProperty(feature.Name, out var x) ? x : default;
            var b = actual.RootElement.TryGetProperty(feature.Name, out var y) ? y : default;
            if (!Same(a, b))
            {
                return $"feature '{feature.Name}' is {Text(b)} online, {Text(a)} offline";
            }
        }

        return null;
    }

    private static bool Same(JsonElement a, JsonElement b)
    {
        if (a.ValueKind == JsonValueKind.Number && b.ValueKind == JsonValueKind.Number)
        {
            var (x, y) = (a.GetDouble(), b.GetDouble());
            return x == y || Math.Abs(x - y) <= 1e-9 * Math.Max(Math.Abs(x), Math.Abs(y));
        }

        return a.ValueKind == b.ValueKind && (a.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null || a.GetRawText() == b.GetRawText());
    }

    private static string Text(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? "absent" : value.GetRawText();
}
