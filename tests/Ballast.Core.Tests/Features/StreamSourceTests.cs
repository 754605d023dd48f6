using Ballast.Datasets;
using Ballast.Experiments;
using Ballast.Features;
using Ballast.Metadata;
using Ballast.Registry;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Features;

/// <summary>
/// Feature views over streams on SQLite and PostgreSQL: an endpoint's prediction log (features from logged inputs and
/// outputs, keyed by an input, timed by the prediction) and KPI values posted with an entity (timed by their arrival);
/// point-in-time joins over them, incremental and idempotent materialization, and the source checks made when a set is stored.
/// </summary>
public abstract class StreamSourceTests(DatabaseEngine engine) : FolderDatabaseTest(engine, "ballast-features-streams-")
{
    private PredictionLog? _log;

    private static DateTimeOffset At(int day, int hour, int minute = 0) => new(2026, 12, day, hour, minute, 0, TimeSpan.Zero);

    private static long Ms(int day, int hour, int minute = 0) => At(day, hour, minute).ToUnixTimeMilliseconds();

    private sealed record Stack(PredictionLog Log, FeatureStore Definitions, OfflineStore Offline, EmbeddedOnlineStore Online, FeatureMaterializer Materializer,
        KpiStore Kpis, EndpointStore Endpoints, RegistryStore Registry);

    private async Task<Stack> StackAsync()
    {
        var artifacts = LocalArtifacts();
        _log = await OpenLogAsync(artifacts);
        var datasets = new DatasetStore(Database, artifacts, Time, new DatasetProfiler());
        var endpoints = new EndpointStore(Database, Time);
        var registry = new RegistryStore(Database, Time);
        var definitions = new FeatureStore(Database, Time, new FeatureSourceChecks(endpoints, registry, Database));
        var offline = new OfflineStore(datasets, Root.FullName, new FeatureStreams(_log, artifacts, Database));
        var online = new EmbeddedOnlineStore(Database, Time);
        return new Stack(_log, definitions, offline, online, new FeatureMaterializer(definitions, datasets, offline, online, Database, Time),
            new KpiStore(Database, Time), endpoints, registry);
    }

    /// <summary>Endpoint <c>churn</c> serving <c>models:/churn/1</c>, whose recorded signature takes customer_id and tenure and answers probability.</summary>
    private static async Task ChurnEndpointAsync(Stack stack)
    {
        await stack.Registry.CreateModelAsync("churn", cancellationToken: Cancel);
        var signature = new ModelSignature(
            [new TensorSpec("customer_id", TensorDatatypes.Int64, [-1, 1]), new TensorSpec("tenure", TensorDatatypes.Fp64, [-1, 1])],
            [new TensorSpec("probability", TensorDatatypes.Fp32, [-1, 1])]);
        await stack.Registry.CreateVersionAsync("churn", "mlflow-artifacts:/models/churn/model.onnx",
            tags: [new TrackingTag(ModelRegistration.SignatureTag, ModelRegistration.SignatureToJson(signature))], cancellationToken: Cancel);
        await stack.Endpoints.PutAsync(new EndpointSpec("churn", null, [new VariantSpec("main", "models:/churn/1")]), Cancel);
    }

    private static PredictionRecord Scored(string id, DateTimeOffset at, long[] customers, double[] tenure, float[] probability, string kind = PredictionRecord.Primary) =>
        new(id, "churn", "main", "models:/churn/1", at.ToUnixTimeMilliseconds(), 1.5, null,
            [new Tensor("customer_id", TensorDatatypes.Int64, [customers.Length], customers), new Tensor("tenure", TensorDatatypes.Fp64, [tenure.Length, 1], tenure)],
            [new Tensor("probability", TensorDatatypes.Fp32, [probability.Length, 1], probability)], kind);

    private static FeatureSetSpec Scores(string ttl = "1d") => new("scores",
        [new EntitySpec("customer", "customer_id", "int64")],
        [
            new FeatureViewSpec("recent_scores", "customer", new FeatureSourceSpec(Endpoint: "churn", EntityColumn: "customer_id"), null,
                [new FeatureSpec("last_score", "double", "probability"), new FeatureSpec("last_tenure", "double", "input.tenure")], ttl),
            new FeatureViewSpec("revenue", "customer", new FeatureSourceSpec(Kpi: "revenue"), null, [new FeatureSpec("last_revenue", "double")]),
        ],
        [new FeatureServiceSpec("scores_v1", ["recent_scores:*", "revenue:last_revenue"])]);

    private async Task PostKpiAsync(Stack stack, DateTimeOffset at, params Kpi[] kpis)
    {
        Time.SetUtcNow(at);
        await stack.Kpis.AddAsync(kpis, Cancel);
    }

    private string Entities(string csv)
    {
        var path = PathIn(Guid.NewGuid().ToString("N") + ".csv");
        File.WriteAllText(path, csv.ReplaceLineEndings("\n"));
        return path;
    }

    [Fact]
    public async Task Training_sets_join_the_prediction_log_and_kpis_at_or_before_each_rows_time()
    {
        var stack = await StackAsync();
        await ChurnEndpointAsync(stack);
        await PostKpiAsync(stack, At(1, 10), new Kpi("revenue", 10, Entity: "1"), new Kpi("revenue", 99, PredictionId: "p-no-entity"));
        await PostKpiAsync(stack, At(1, 12), new Kpi("revenue", 20, Entity: "1"), new Kpi("revenue", 5, RoutingKey: "u-2", Entity: "2"));
        await stack.Definitions.PutAsync(Scores(), Cancel);

        // A batch of two rows, a later single row, a shadow answer (not what the caller got) and a request without the key.
        await stack.Log.AppendAsync(Scored("p1", At(1, 10), [1, 2], [3, 5], [0.25f, 0.5f]), Cancel);
        await stack.Log.AppendAsync(Scored("p2", At(1, 12), [1], [4], [0.75f]), Cancel);
        await stack.Log.AppendAsync(Scored("p3", At(1, 11), [1], [9], [1f], PredictionRecord.Shadow), Cancel);
        await stack.Log.AppendAsync(new PredictionRecord("p4", "churn", "main", "models:/churn/1", Ms(1, 11), 1, null,
            [new Tensor("tenure", TensorDatatypes.Fp64, [1, 1], new[] { 7.0 })], [new Tensor("probability", TensorDatatypes.Fp32, [1, 1], new[] { 0.125f })]), Cancel);
        var entities = Entities("""
            customer_id,event_timestamp,label
            1,2026-12-01 11:00:00,0
            1,2026-12-01 12:00:00,1
            1,2026-12-01 09:59:59,0
            2,2026-12-01 23:00:00,1
            2,2026-12-03 00:00:00,0
            3,2026-12-01 12:00:00,1
            """);
        var output = PathIn("train.parquet");

        var result = await stack.Offline.TrainingSetAsync(stack.Definitions.Catalog.Service("scores_v1"), entities, "entities.csv", output, cancellationToken: Cancel);

        result.Sources.ShouldBe(["endpoint:churn", "kpi:revenue"]);
        result.Columns.ShouldBe(["customer_id", "event_timestamp", "label", "last_score", "last_tenure", "last_revenue"]);
        FeatureTestStack.ReadParquet(output).Select(row => (row["last_score"], row["last_tenure"], row["last_revenue"])).ShouldBe(
        [
            (0.25, 3.0, 10.0),     // the batch's first row; the shadow answer at 11:00 is not a feature
            (0.75, 4.0, 20.0),     // a prediction and a KPI at exactly the row's time are included
            (null, null, null),    // before anything was logged or posted
            (0.5, 5.0, 5.0),       // the batch's second row; the KPI for routing key u-2 also names entity 2
            (null, null, 5.0),     // the prediction is past the view's 1d TTL; the KPI view has none
            (null, null, null),    // an entity no stream mentions
        ]);
    }

    [Fact]
    public async Task Stream_views_materialize_only_what_arrived_since_the_watermark_and_a_repeat_changes_nothing()
    {
        var stack = await StackAsync();
        await ChurnEndpointAsync(stack);
        await PostKpiAsync(stack, At(1, 10), new Kpi("revenue", 10, Entity: "1"));
        await stack.Definitions.PutAsync(Scores("30d"), Cancel);
        await stack.Log.AppendAsync(Scored("p1", At(1, 10), [1, 2], [3, 5], [0.25f, 0.5f]), Cancel);

        var first = await stack.Materializer.MaterializeAsync(Ms(1, 11), cancellationToken: Cancel);
        first.ShouldBe(
        [
            new MaterializationResult("recent_scores", "endpoint:churn", null, Ms(1, 11), 2, 2),
            new MaterializationResult("revenue", "kpi:revenue", null, Ms(1, 11), 1, 1),
        ]);
        (await stack.Online.ReadAsync("recent_scores", ["1", "2"], Cancel)).Select(row => row?.Values).ShouldBe(["""{"last_score":0.25,"last_tenure":3.0}""", """{"last_score":0.5,"last_tenure":5.0}"""]);

        var again = await stack.Materializer.MaterializeAsync(Ms(1, 11), cancellationToken: Cancel);
        again.Select(result => (result.From, result.Rows, result.Changed)).ShouldBe([(Ms(1, 11), 0L, 0), (Ms(1, 11), 0L, 0)]);

        // Later arrivals: only they are read (from the watermark less the stream lateness), and the newer values win.
        await PostKpiAsync(stack, At(1, 15), new Kpi("revenue", 30, Entity: "2"));
        await stack.Log.AppendAsync(Scored("p2", At(1, 15), [1], [4], [0.75f]), Cancel);
        var lower = Ms(1, 11) - (long)FeatureMaterializer.StreamLateness.TotalMilliseconds;
        var next = await stack.Materializer.MaterializeAsync(Ms(1, 16), cancellationToken: Cancel);
        next.ShouldBe(
        [
            new MaterializationResult("recent_scores", "endpoint:churn", lower, Ms(1, 16), 1, 1),
            new MaterializationResult("revenue", "kpi:revenue", lower, Ms(1, 16), 1, 1),
        ]);
        (await stack.Online.ReadAsync("recent_scores", ["1", "2"], Cancel)).Select(row => (row?.EventAt, row?.Values)).ShouldBe(
            [(Ms(1, 15), """{"last_score":0.75,"last_tenure":4.0}"""), (Ms(1, 10), """{"last_score":0.5,"last_tenure":5.0}""")]);
        (await stack.Online.ReadAsync("revenue", ["1", "2"], Cancel)).Select(row => row?.Values).ShouldBe(["""{"last_revenue":10.0}""", """{"last_revenue":30.0}"""]);

        // A value that arrives late (timed before the watermark, within the lateness) is still picked up, once.
        Time.SetUtcNow(At(1, 15, 58));
        await stack.Kpis.AddAsync([new Kpi("revenue", 40, Entity: "3")], Cancel);
        var late = await stack.Materializer.MaterializeAsync(Ms(1, 17), ["revenue"], Cancel);
        (late.ShouldHaveSingleItem().Rows, late[0].Changed).ShouldBe((1L, 1));
        (await stack.Materializer.MaterializeAsync(Ms(1, 18), ["revenue"], Cancel)).ShouldHaveSingleItem().Changed.ShouldBe(0);
    }

    [Fact]
    public async Task Of_predictions_logged_in_one_millisecond_the_later_write_is_the_latest_value()
    {
        // Every request of the entity in one millisecond; prediction ids sort against the write order, so any order
        // but the log's write sequence (by id, or by a sort that is not stable) would pick an earlier value.
        var stack = await StackAsync();
        await ChurnEndpointAsync(stack);
        await PostKpiAsync(stack, At(1, 9), new Kpi("revenue", 10, Entity: "1"));
        await stack.Definitions.PutAsync(Scores("30d"), Cancel);
        for (var i = 0; i < 40; i++)
        {
            await stack.Log.AppendAsync(Scored($"p{99 - i:D2}", At(1, 10), [1, 2], [i, 100 + i], [i / 64f, 0.5f]), Cancel);
        }

        var output = PathIn("train.parquet");
        await stack.Offline.TrainingSetAsync(stack.Definitions.Catalog.Service("scores_v1"), Entities("customer_id,event_timestamp\n1,2026-12-01 10:00:00\n2,2026-12-01 11:00:00\n"),
            "entities.csv", output, cancellationToken: Cancel);
        FeatureTestStack.ReadParquet(output).Select(row => (row["last_score"], row["last_tenure"])).ShouldBe([((object?)0.609375, (object?)39.0), (0.5, 139.0)],
            "a row at exactly the records' millisecond, and one later, both get the last write");

        (await stack.Materializer.MaterializeAsync(Ms(1, 11), ["recent_scores"], Cancel)).ShouldHaveSingleItem().Changed.ShouldBe(2);
        (await stack.Online.ReadAsync("recent_scores", ["1", "2"], Cancel)).Select(row => row?.Values)
            .ShouldBe(["""{"last_score":0.609375,"last_tenure":39.0}""", """{"last_score":0.5,"last_tenure":139.0}"""]);
    }

    [Fact]
    public async Task Random_kpi_streams_join_exactly_what_a_brute_force_scan_picks_and_nothing_that_arrived_later()
    {
        var stack = await StackAsync();
        await PostKpiAsync(stack, At(1, 0), new Kpi("spend", 0, Entity: "0"));
        for (var seed = 1; seed <= 5; seed++)
        {
            var random = new Random(seed);
            var ttlMinutes = random.Next(30, 600);
            var kpi = $"spend-{seed}";
            var start = At(1, 0).AddDays(seed * 2);
            // Values arrive in order of time; several in one batch share their arrival time (ties: the later one wins).
            var arrived = new List<(string Entity, DateTimeOffset At, double Value)>();
            var at = start;
            for (var batch = 0; batch < 60; batch++)
            {
                at = at.AddMinutes(random.Next(0, 3) * 10);
                var values = Enumerable.Range(0, random.Next(1, 4)).Select(_ => (Entity: random.Next(1, 6).ToString(System.Globalization.CultureInfo.InvariantCulture), Value: (double)random.Next(0, 1000))).ToList();
                await PostKpiAsync(stack, at, [.. values.Select(value => new Kpi(kpi, value.Value, Entity: value.Entity))]);
                arrived.AddRange(values.Select(value => (value.Entity, at, value.Value)));
            }

            await stack.Definitions.PutAsync(new FeatureSetSpec($"random-{seed}", [new EntitySpec("customer", "customer_id")],
                [new FeatureViewSpec($"spend_{seed}", "customer", new FeatureSourceSpec(Kpi: kpi), null, [new FeatureSpec("spend", "double")], $"{ttlMinutes}m")],
                [new FeatureServiceSpec($"spend_v{seed}", [$"spend_{seed}:spend"])]), Cancel);
            var rows = Enumerable.Range(0, 200).Select(_ => (Entity: random.Next(1, 7).ToString(System.Globalization.CultureInfo.InvariantCulture),
                At: start.AddMinutes(random.Next(-30, (int)(at - start).TotalMinutes + 60)))).ToList();
            var entities = Entities("customer_id,event_timestamp\n" + string.Concat(rows.Select(row => $"{row.Entity},{row.At:yyyy-MM-dd HH:mm:ss}\n")));
            var output = PathIn($"random-{seed}.parquet");

            await stack.Offline.TrainingSetAsync(stack.Definitions.Catalog.Service($"spend_v{seed}"), entities, "entities.csv", output, cancellationToken: Cancel);

            var expected = rows.Select(row => arrived.Select((value, index) => (value, index))
                .Where(item => item.value.Entity == row.Entity && item.value.At <= row.At)
                .OrderBy(item => item.value.At).ThenBy(item => item.index).Select(item => ((DateTimeOffset, double)?)(item.value.At, item.value.Value)).LastOrDefault() is { } latest
                    && latest.Item1 >= row.At.AddMinutes(-ttlMinutes) ? (object?)latest.Item2 : null).ToList();
            FeatureTestStack.ReadParquet(output).Select(row => row["spend"]).ShouldBe(expected, $"seed {seed}");
        }
    }

    /// <summary>One expected row of the mixed log's view, typed as FeatureSource casts the logged text.</summary>
    private sealed record MixedRow(string Entity, long Ms, double? Tenure, double? InputTenure, double? P1, double? P5, double? Probabilities,
        string? Segment, string? Label, bool? Flag, long? Visits, long Row);

    [Fact]
    public async Task A_large_prediction_log_of_mixed_tensor_shapes_gives_one_row_per_scored_row_as_the_tensors_say()
    {
        var stack = await StackAsync();
        await stack.Registry.CreateModelAsync("mixed", cancellationToken: Cancel);
        await stack.Registry.CreateVersionAsync("mixed", "mlflow-artifacts:/models/mixed/model.onnx", cancellationToken: Cancel);
        await stack.Endpoints.PutAsync(new EndpointSpec("mixed", null, [new VariantSpec("main", "models:/mixed/1")]), Cancel);
        var view = new FeatureViewSpec("mixed_scores", "customer", new FeatureSourceSpec(Endpoint: "mixed", EntityColumn: "customer_id"), null,
        [
            new FeatureSpec("tenure", "double"),                                     // inputs first, then outputs
            new FeatureSpec("input_tenure", "double", "input.tenure"),
            new FeatureSpec("p1", "double", "output.probabilities[1]"),
            new FeatureSpec("p5", "double", "probabilities[5]"),                      // past the row's width: none
            new FeatureSpec("probabilities", "double"),                               // several values a row, no [i]: none
            new FeatureSpec("segment", "string"),
            new FeatureSpec("label", "string", "output.label"),
            new FeatureSpec("flag", "bool"),
            new FeatureSpec("visits", "int64"),
        ]);

        // Seeded: 2,100 requests of 1-5 rows in seven shapes, several sharing a millisecond (the prediction id orders them).
        var random = new Random(20261205);
        string[] words = ["plain", "with \"quotes\"", "back\\slash", "café", "😀", "007", "", "x,y"];
        double Number() => random.Next(10) switch
        {
            0 => double.NaN,
            1 => random.NextDouble() * 1e-7,
            2 => -1.5e300 * random.NextDouble(),
            3 => random.Next(-1000, 1000),
            _ => Math.Round(random.NextDouble() * 1000, random.Next(0, 8)),
        };
        static double Logged(float value) => double.Parse(value.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
        var expected = new List<MixedRow>();
        var at = Ms(2, 0);
        for (var i = 0; i < 2100; i++)
        {
            at += random.Next(0, 3) * 250;
            var n = random.Next(1, 6);
            var id = $"p{i:D5}";
            var shape = i % 7;
            var keys = Enumerable.Range(0, n).Select(_ => (long)random.Next(1, 60)).ToArray();
            var tenure = Enumerable.Range(0, n).Select(_ => Number()).ToArray();
            var probabilities = Enumerable.Range(0, n * 3).Select(_ => (float)random.NextDouble()).ToArray();
            var segment = Enumerable.Range(0, n).Select(_ => words[random.Next(words.Length)]).ToArray();
            var flags = Enumerable.Range(0, n).Select(_ => random.Next(2) == 1).ToArray();
            var visits = Enumerable.Range(0, n).Select(_ => (1L << 53) + random.Next(0, 1000)).ToArray();
            List<Tensor> inputs;
            List<Tensor> outputs;
            var kind = PredictionRecord.Primary;
            switch (shape)
            {
                case 0: // V2 named inputs, a batch: INT64 [N] keys, [N,1] columns, a string, a bool; [N,2] scores and a label out
                    inputs = [new("customer_id", TensorDatatypes.Int64, [n], keys), new("tenure", TensorDatatypes.Fp64, [n, 1], tenure),
                        new("segment", TensorDatatypes.Bytes, [n, 1], segment), new("flag", TensorDatatypes.Bool, [n, 1], flags), new("visits", TensorDatatypes.Int64, [n, 1], visits)];
                    outputs = [new("probabilities", TensorDatatypes.Fp32, [n, 2], probabilities[..(n * 2)]), new("label", TensorDatatypes.Bytes, [n], segment)];
                    expected.AddRange(Enumerable.Range(0, n).Select(r => new MixedRow(keys[r].ToString(System.Globalization.CultureInfo.InvariantCulture), at, tenure[r], tenure[r],
                        Logged(probabilities[(r * 2) + 1]), null, null, segment[r], segment[r], flags[r], visits[r], 0)));
                    break;
                case 1: // FP64 [N,1] keys (7.0 is key 7, 7.5 stays 7.5); tenure only among the outputs; [N,3] scores
                    var doubles = keys.Select((key, r) => r % 3 == 2 ? key + 0.5 : key).ToArray();
                    inputs = [new("customer_id", TensorDatatypes.Fp64, [n, 1], doubles)];
                    outputs = [new("tenure", TensorDatatypes.Fp64, [n], tenure), new("probabilities", TensorDatatypes.Fp32, [n, 3], probabilities)];
                    expected.AddRange(Enumerable.Range(0, n).Select(r => new MixedRow(doubles[r].ToString(System.Globalization.CultureInfo.InvariantCulture), at, tenure[r], null,
                        Logged(probabilities[(r * 3) + 1]), null, null, null, null, null, null, 0)));
                    break;
                case 2: // BYTES keys; an input tenure whose shape does not divide its data (the output's is used); one row of scores for N rows
                    var texts = keys.Select(key => $"c-{key}").ToArray();
                    inputs = [new("customer_id", TensorDatatypes.Bytes, [n], texts), new("tenure", TensorDatatypes.Fp64, [n + 1, 1], tenure), new("segment", TensorDatatypes.Bytes, [n], segment)];
                    outputs = [new("tenure", TensorDatatypes.Fp64, [n, 1], tenure.Select(value => value * 2).ToArray()), new("probabilities", TensorDatatypes.Fp32, [1, 2], probabilities[..2])];
                    expected.AddRange(Enumerable.Range(0, n).Select(r => new MixedRow(texts[r], at, tenure[r] * 2, null,
                        r == 0 ? Logged(probabilities[1]) : null, null, null, segment[r], null, null, null, 0)));
                    break;
                case 3: // two keys a row: no entity
                    inputs = [new("customer_id", TensorDatatypes.Int64, [n, 2], keys.Concat(keys).ToArray()), new("tenure", TensorDatatypes.Fp64, [n, 1], tenure)];
                    outputs = [];
                    break;
                case 4: // no key at all
                    inputs = [new("tenure", TensorDatatypes.Fp64, [n, 1], tenure)];
                    outputs = [new("probabilities", TensorDatatypes.Fp32, [n, 2], probabilities[..(n * 2)])];
                    break;
                case 5: // a shadow's answer: not what the caller got
                    inputs = [new("customer_id", TensorDatatypes.Int64, [n], keys), new("tenure", TensorDatatypes.Fp64, [n, 1], tenure)];
                    outputs = [];
                    kind = PredictionRecord.Shadow;
                    break;
                default: // shapeless scalars: one row; a single-valued probabilities tensor is that row's value
                    inputs = [new("customer_id", TensorDatatypes.Int64, [], keys[..1]), new("tenure", TensorDatatypes.Fp64, [], tenure[..1])];
                    outputs = [new("probabilities", TensorDatatypes.Fp32, [], probabilities[..1])];
                    expected.Add(new MixedRow(keys[0].ToString(System.Globalization.CultureInfo.InvariantCulture), at, tenure[0], tenure[0], null, null,
                        Logged(probabilities[0]), null, null, null, null, 0));
                    break;
            }

            await stack.Log.AppendAsync(new PredictionRecord(id, "mixed", "main", "models:/mixed/1", at, 1, null, inputs, outputs, kind), Cancel);
        }

        var artifacts = LocalArtifacts();
        var entity = new EntitySpec("customer", "customer_id");
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var copies = new List<string>();

        await new FeatureStreams(stack.Log, artifacts, Database).LoadAsync(connection, "mixed_raw", new ResolvedView("mixed", view, entity, null), view.Features!, null, null, copies, Cancel);

        var rows = DuckDbSql.Query(connection, """
            SELECT __entity, __ms, TRY_CAST(tenure AS DOUBLE), TRY_CAST(input_tenure AS DOUBLE), TRY_CAST(p1 AS DOUBLE), TRY_CAST(p5 AS DOUBLE),
                TRY_CAST(probabilities AS DOUBLE), segment, label, TRY_CAST(flag AS BOOLEAN), TRY_CAST(visits AS BIGINT), __row
            FROM mixed_raw ORDER BY __row
            """, reader =>
        {
            var list = new List<MixedRow>();
            while (reader.Read())
            {
                double? Double(int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);
                string? Text(int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
                list.Add(new MixedRow(reader.GetString(0), reader.GetInt64(1), Double(2), Double(3), Double(4), Double(5), Double(6), Text(7), Text(8),
                    reader.IsDBNull(9) ? null : reader.GetBoolean(9), reader.IsDBNull(10) ? null : reader.GetInt64(10), reader.GetInt64(11)));
            }

            return list;
        });

        expected = expected.Select((row, index) => row with { Row = index }).ToList();
        rows.Count.ShouldBe(expected.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].ShouldBe(expected[i], $"row {i}");
        }
    }

    [Fact]
    public async Task Stream_sources_are_checked_when_a_set_is_stored()
    {
        var stack = await StackAsync();
        await ChurnEndpointAsync(stack);
        await PostKpiAsync(stack, At(1, 10), new Kpi("clicks", 1, RoutingKey: "u-1"));
        var spec = new FeatureSetSpec("checks", [new EntitySpec("customer", "customer_id", "int64")],
        [
            new FeatureViewSpec("gone", "customer", new FeatureSourceSpec(Endpoint: "fraud", EntityColumn: "customer_id"), null, [new FeatureSpec("score", "double")]),
            new FeatureViewSpec("keyless", "customer", new FeatureSourceSpec(Endpoint: "churn", EntityColumn: "account_id"), null,
                [new FeatureSpec("score", "double", "output.probability"), new FeatureSpec("age", "double"), new FeatureSpec("first", "double", "probability[0]")]),
            new FeatureViewSpec("unknown_kpi", "customer", new FeatureSourceSpec(Kpi: "revenue"), null, [new FeatureSpec("revenue", "double")]),
            new FeatureViewSpec("no_entity", "customer", new FeatureSourceSpec(Kpi: "clicks"), null, [new FeatureSpec("clicks", "double")]),
        ]);

        var error = await Should.ThrowAsync<TrackingException>(() => stack.Definitions.PutAsync(spec, Cancel));

        error.Code.ShouldBe(TrackingException.InvalidParameterValue);
        error.Message.ShouldBe("Invalid feature set 'checks': view 'gone': source.endpoint 'fraud' is unknown: there is no such endpoint; "
            + "view 'keyless': source.entity_column 'account_id' is not an input of endpoint 'churn' (its inputs: customer_id, tenure); "
            + "view 'keyless': feature 'age' column 'age' is not an input or output of endpoint 'churn' (inputs: customer_id, tenure; outputs: probability); "
            + "view 'unknown_kpi': source.kpi 'revenue' is unknown: no value of it has been posted to /api/v1/kpis; "
            + "view 'no_entity': source.kpi 'clicks' has 1 value(s) but none names an entity; post its values with \"entity\" (the customer_id they describe).");
        (await stack.Definitions.ListAsync(Cancel)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Kpis_take_an_optional_entity_and_say_precisely_what_is_wrong()
    {
        var stack = await StackAsync();
        (await stack.Kpis.AddAsync([new Kpi("revenue", 1, Entity: "c-1"), new Kpi("revenue", 2, PredictionId: "p1", Entity: "c-2")], Cancel)).ShouldBe(2);

        var error = await Should.ThrowAsync<TrackingException>(() => stack.Kpis.AddAsync(
            [new Kpi("revenue", 1), new Kpi("revenue", 1, PredictionId: "p1", RoutingKey: "u"), new Kpi("revenue", 1, Entity: ""), new Kpi("revenue", 1, Entity: new string('x', 256))], Cancel));

        error.Message.ShouldBe("Invalid KPIs: item 0: give exactly one of prediction_id (a Ballast-Prediction-Id) or routing_key (up to 256 characters), or only an entity; "
            + "item 1: give exactly one of prediction_id (a Ballast-Prediction-Id) or routing_key (up to 256 characters), or only an entity; "
            + "item 2: entity must be 1 to 255 characters (the entity key the value describes); item 3: entity must be 1 to 255 characters (the entity key the value describes).");
    }
}

public sealed class SqliteStreamSourceTests() : StreamSourceTests(DatabaseEngine.Sqlite);

public sealed class PostgresStreamSourceTests() : StreamSourceTests(DatabaseEngine.Postgres);
