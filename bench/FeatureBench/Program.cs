using System.Globalization;
using Ballast.FeatureBench;

// bench/features/run.sh's helper; each mode runs in its own process so /usr/bin/time sees it alone:
//   generate DIR FEATURE_ROWS ENTITIES ENTITY_ROWS  seeded Parquet: DIR/features.parquet, DIR/entities.parquet
//   prepare DIR                      a Ballast data folder in DIR/ballast: the features file as dataset version
//                                    events@1 and feature set "bench" (service bench_v1: 4 features, TTL 30d)
//   training-set DIR                 Ballast's point-in-time join (OfflineStore.TrainingSetAsync, what
//                                    `ballast features training-set` runs on the server) to DIR/ballast.parquet
//   asof DIR                         the baseline: the plain DuckDB ASOF LEFT JOIN of the same files to DIR/plain.parquet
//   compare DIR                      checks both outputs hold the same values for every entity row
//   lookup LOOKUPS BATCH_LOOKUPS BATCH [REDIS]  online lookups of 20 features, LOOKUPS of one entity and BATCH_LOOKUPS
//                                    of BATCH entities, embedded (SQLite) and Redis, each beside its raw baseline;
//                                    prints percentiles as JSON lines
return args switch
{
    ["generate", var folder, var featureRows, var entities, var entityRows] =>
        JoinBench.Generate(folder, long.Parse(featureRows, CultureInfo.InvariantCulture), long.Parse(entities, CultureInfo.InvariantCulture), long.Parse(entityRows, CultureInfo.InvariantCulture)),
    ["prepare", var folder] => await JoinBench.PrepareAsync(folder),
    ["training-set", var folder] => await JoinBench.TrainingSetAsync(folder),
    ["asof", var folder] => JoinBench.PlainAsof(folder),
    ["compare", var folder] => JoinBench.Compare(folder),
    ["lookup", var lookups, var batchLookups, var batch, .. var rest] => await LookupBench.RunAsync(int.Parse(lookups, CultureInfo.InvariantCulture),
        int.Parse(batchLookups, CultureInfo.InvariantCulture), int.Parse(batch, CultureInfo.InvariantCulture), rest.FirstOrDefault()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: FeatureBench generate DIR FEATURE_ROWS ENTITIES ENTITY_ROWS | prepare DIR | training-set DIR | asof DIR | compare DIR | lookup LOOKUPS BATCH_LOOKUPS BATCH [REDIS_URL]");
    return 2;
}
