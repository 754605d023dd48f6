namespace Ballast.Tests.Monitoring.Sketches;

/// <summary>Seeded samples for the sketch property tests.</summary>
internal static class SketchData
{
    public static double[] Uniform(int n, int seed)
    {
        var random = new Random(seed);
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = random.NextDouble();
        }

        return values;
    }

    /// <summary>Standard normal by Box–Muller.</summary>
    public static double[] Normal(int n, int seed)
    {
        var random = new Random(seed);
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            var u = 1.0 - random.NextDouble();
            var v = random.NextDouble();
            values[i] = Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
        }

        return values;
    }

    /// <summary>Standard Cauchy by inversion: no mean, heavy tails on both sides.</summary>
    public static double[] Cauchy(int n, int seed)
    {
        var random = new Random(seed);
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = Math.Tan(Math.PI * (random.NextDouble() - 0.5));
        }

        return values;
    }

    public static double[] ByName(string name, int n, int seed) => name switch
    {
        "uniform" => Uniform(n, seed),
        "normal" => Normal(n, seed),
        "cauchy" => Cauchy(n, seed),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    /// <summary>Exact inclusive rank of x in sorted data: the fraction ≤ x.</summary>
    public static double ExactRank(double[] sorted, double x)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (sorted[middle] <= x)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return (double)low / sorted.Length;
    }

    /// <summary>Splits values into <paramref name="shards"/> contiguous shards (as replicas would see them).</summary>
    public static double[][] Shards(double[] values, int shards)
    {
        var result = new double[shards][];
        var size = (values.Length + shards - 1) / shards;
        for (var s = 0; s < shards; s++)
        {
            var start = Math.Min(values.Length, s * size);
            var end = Math.Min(values.Length, start + size);
            result[s] = values[start..end];
        }

        return result;
    }
}
