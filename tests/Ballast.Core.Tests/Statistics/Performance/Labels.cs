namespace Ballast.Tests.Statistics.Performance;

/// <summary>0/1 lists as the reference sources write them, turned into the boolean labels the statistics take.</summary>
internal static class Labels
{
    public static bool[] Of(params int[] values) => [.. values.Select(v => v == 1)];
}
