namespace Ballast.Features;

/// <summary>How <see cref="OfflineStore.TrainingSetAsync"/> finds each entity row's feature row in a view.</summary>
internal enum PointInTimeStrategy
{
    /// <summary>The range join when the view has a TTL and it fits (few entity rows per key, few matches), else the ASOF join.</summary>
    Auto,

    /// <summary>An ASOF join on key and time, then the values of the matched (key, time) pairs.</summary>
    Asof,

    /// <summary>A hash join on the key with the time range [time − TTL, time], the latest match kept per entity row.</summary>
    Range,
}
