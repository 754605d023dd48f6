using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Tests.Serving;
using DuckDB.NET.Data;

namespace Ballast.Tests.Features;

/// <summary>
/// Feature views over streams on a real server (SQLite and PostgreSQL): the prediction log of an endpoint that is itself
/// enriched from a feature service, and KPI values posted with an entity; sources checked with problem+json 400s; a
/// training set over HTTP; materialization and online lookups; the feature service in the registered model's signature.
/// </summary>
public abstract class StreamFeatureServerTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    private const string Passengers = """
        passenger_id,updated_at,pclass,sex,age_months,embarked
        1,2026-11-01 00:00:00,1,female,348,S
        2,2026-11-01 00:00:00,3,male,300,Q
        """;

    private const string Titanic = """
        {"name": "titanic", "entities": [{"name": "passenger", "join_key": "passenger_id", "type": "int64"}],
         "views": [{"name": "passenger_profile", "entity": "passenger", "source": {"dataset": "passengers"}, "timestamp": "updated_at",
                    "features": [{"name": "pclass", "type": "int64"}, {"name": "sex", "type": "string"}, {"name": "age_months", "type": "double"}, {"name": "embarked", "type": "string"}]}],
         "services": [{"name": "titanic_v1", "features": ["passenger_profile:*"], "on_demand": [{"name": "age", "type": "float", "expression": "age_months / 12"}]}]}
        """;

    private static string Streams(string endpoint = "titanic", string entityColumn = "passenger_id", string kpi = "fare_paid", string label = "output_label") => $$"""
        {"name": "streams", "entities": [{"name": "passenger", "join_key": "passenger_id", "type": "int64"}],
         "views": [{"name": "recent_scores", "entity": "passenger", "source": {"endpoint": "{{endpoint}}", "entity_column": "{{entityColumn}}"},
                    "features": [{"name": "last_label", "type": "int64", "column": "output.{{label}}"}, {"name": "last_fare", "type": "double", "column": "fare"},
                                 {"name": "last_age", "type": "double", "column": "age"}]},
                   {"name": "paid", "entity": "passenger", "source": {"kpi": "{{kpi}}"}, "features": [{"name": "paid", "type": "double"}]}],
         "services": [{"name": "streams_v1", "features": ["recent_scores:*", "paid:paid"]}]}
        """;

    [Fact]
    public async Task Views_over_a_prediction_log_and_a_kpi_stream_give_training_sets_and_online_features()
    {
        // The clock stands still: every request is scored, logged and stamped in one millisecond, and of passenger 2's
        // two requests the later one must still be the latest (the log's write sequence orders records of one millisecond).
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, 250, TimeSpan.Zero));
        await using var server = await StartServerAsync(time: time);
        using var client = server.Client();
        await ServingHelpers.AddDatasetAsync(client, "passengers", Passengers);
        (await PutAsync(client, "titanic", Titanic)).StatusCode.ShouldBe(HttpStatusCode.Created);
        var signature = await RegisterTitanicAsync(client, "titanic_v1");
        signature.GetProperty("feature_service").GetString().ShouldBe("titanic_v1", "the model's signature records the service it was trained on");
        var label = signature.GetProperty("outputs")[0].GetProperty("name").GetString()!;
        (await client.GetStringAsync("/api/v1/models/titanic/versions/1/card?format=markdown", Cancel)).ShouldContain("- **Feature service:** titanic_v1");
        using (var endpoint = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}], "features": {"service": "titanic_v1"}}
            """).RootElement, Cancel))
        {
            endpoint.StatusCode.ShouldBe(HttpStatusCode.Created, await endpoint.Content.ReadAsStringAsync(Cancel));
        }

        (await client.PostAsJsonAsync("/api/v1/features/materialize", new { until = "2026-11-30T00:00:00Z", views = new[] { "passenger_profile" } }, Cancel)).EnsureSuccessStatusCode();

        // Sources are checked: an unknown endpoint, an input the endpoint does not log, an unknown KPI.
        await PostKpisAsync(client, new { name = "fare_paid", value = 7.25, entity = "2" }, HttpStatusCode.OK);
        foreach (var (body, message) in new[]
        {
            (Streams(endpoint: "nope"), "view 'recent_scores': source.endpoint 'nope' is unknown: there is no such endpoint"),
            (Streams(entityColumn: "customer_id"), "view 'recent_scores': source.entity_column 'customer_id' is not an input of endpoint 'titanic' (its inputs: age, age_months, embarked, fare, passenger_id, pclass, sex)"),
            (Streams(kpi: "refunds"), "view 'paid': source.kpi 'refunds' is unknown: no value of it has been posted to /api/v1/kpis"),
        })
        {
            using var refused = await PutAsync(client, "streams", body);
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldContain(message);
        }

        // Applied as a manifest (JSON is YAML), as users do.
        var manifest = Path.Combine(Directory.CreateTempSubdirectory("ballast-stream-features-").FullName, "streams.yaml");
        await File.WriteAllTextAsync(manifest, "{\"kind\": \"FeatureSet\", " + Streams(label: label).TrimStart()[1..], Cancel);
        using (var output = new StringWriter())
        using (var error = new StringWriter())
        {
            (await Ballast.Cli.BallastCli.RunAsync(["apply", "-f", manifest, "--url", server.BaseAddress.ToString()], output, error)).ShouldBe(0, error.ToString());
            output.ToString().ShouldContain("  + views[recent_scores].source.endpoint: titanic\n");
            output.ToString().ShouldEndWith("featureset/streams: created (revision 1)\n");
        }

        // Scored requests carry only the key and the fare; the logged row has the looked-up and computed features too.
        foreach (var (passenger, fare) in new[] { (1, 80f), (2, 7.5f), (2, 9.5f) })
        {
            using var scored = await client.PostAsJsonAsync("/v2/models/titanic/infer", new
            {
                inputs = new object[]
                {
                    new { name = "passenger_id", shape = new[] { 1, 1 }, datatype = "INT64", data = new[] { passenger } },
                    new { name = "fare", shape = new[] { 1, 1 }, datatype = "FP32", data = new[] { fare } },
                },
            }, Cancel);
            scored.StatusCode.ShouldBe(HttpStatusCode.OK, await scored.Content.ReadAsStringAsync(Cancel));
        }

        await PostKpisAsync(client, new { kpis = new object[] { new { name = "fare_paid", value = 80.0, entity = "1" }, new { name = "fare_paid", value = 9.5, entity = "2", routing_key = "u-2" } } }, HttpStatusCode.OK);
        await PostKpisAsync(client, new { name = "fare_paid", value = 1.0 }, HttpStatusCode.BadRequest);

        // A training set: rows long before anything was logged get nothing; rows far later get the latest of each stream.
        using var entities = new StringContent("passenger_id,event_timestamp\n1,2000-01-01 00:00:00\n1,2099-01-01 00:00:00\n2,2099-01-01 00:00:00\n", Encoding.UTF8, "text/csv");
        using var training = await client.PostAsync("/api/v1/features/training-set?service=streams_v1", entities, Cancel);
        training.StatusCode.ShouldBe(HttpStatusCode.OK, await training.Content.ReadAsStringAsync(Cancel));
        training.Headers.GetValues("Ballast-Sources").Single().ShouldBe("endpoint:titanic,kpi:fare_paid");
        var file = Path.Combine(Directory.CreateTempSubdirectory("ballast-stream-training-").FullName, "train.parquet");
        await File.WriteAllBytesAsync(file, await training.Content.ReadAsByteArrayAsync(Cancel), Cancel);
        FeatureServingTests.Query(file, "SELECT concat_ws(',', passenger_id, coalesce(CAST(last_fare AS VARCHAR), 'null'), coalesce(CAST(last_age AS VARCHAR), 'null'), coalesce(CAST(paid AS VARCHAR), 'null'), last_label IS NOT NULL) FROM read_parquet('{0}')")
            .ShouldBe(["1,null,null,null,false", "1,80.0,29.0,80.0,true", "2,9.5,25.0,9.5,true"]);

        // Materialized, the streams' latest values are online.
        var materialized = await client.PostAsJsonAsync("/api/v1/features/materialize", new { views = new[] { "recent_scores", "paid" } }, Cancel);
        var views = (await materialized.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("views");
        views.EnumerateArray().Select(view => (view.GetProperty("source").GetString(), view.GetProperty("rows").GetInt64())).ShouldBe([("endpoint:titanic", 2L), ("kpi:fare_paid", 2L)]);
        var online = await client.GetFromJsonAsync<JsonElement>("/api/v1/features/online?service=streams_v1&entity=2", Cancel);
        (online.GetProperty("features").GetProperty("last_fare").GetDouble(), online.GetProperty("features").GetProperty("paid").GetDouble()).ShouldBe((9.5, 9.5));
        online.GetProperty("missing").GetArrayLength().ShouldBe(0);

        // Offline recomputation over the streams agrees with what was materialized.
        using var checkedSkew = await client.PostAsync("/api/v1/features/consistency?service=streams_v1", null, Cancel);
        var report = await checkedSkew.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        (report.GetProperty("sampled").GetInt64(), report.GetProperty("skewed").GetInt64()).ShouldBe((4, 0), report.ToString());
    }

    // A KPI's entity was a JSON string only; and DuckDB's cast to BIGINT rounded a stream's key 8.5 to 9 (another rider's).
    [Fact]
    public async Task Kpi_entities_may_be_numbers_keyed_as_the_int64_entity_keys_them_and_fractions_are_refused_or_skipped()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();

        // Read by no view yet: a number is kept as written, whole or not (no entity says what its keys are).
        await PostKpisJsonAsync(client, """{"kpis": [{"name": "tips", "value": 3, "entity": 7.0}, {"name": "tips", "value": 4, "entity": 8.5}]}""", HttpStatusCode.OK);
        using (var put = await PutAsync(client, "tipping", """
            {"name": "tipping", "entities": [{"name": "rider", "join_key": "rider_id", "type": "int64"}],
             "views": [{"name": "tips", "entity": "rider", "source": {"kpi": "tips"}, "features": [{"name": "tips", "type": "double"}]}],
             "services": [{"name": "tips_v1", "features": ["tips:tips"]}]}
            """))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.Created, await put.Content.ReadAsStringAsync(Cancel));
        }

        // Read by an int64 view: 9, 9.0, "9" and "009" are rider 9; a fraction or a non-number is refused, naming each.
        await PostKpisJsonAsync(client, """{"kpis": [{"name": "tips", "value": 5, "entity": 9.0}, {"name": "tips", "value": 6, "entity": "010"}, {"name": "tips", "value": 7, "entity": 7}]}""", HttpStatusCode.OK);
        using (var refused = await client.PostAsync("/api/v1/kpis", new StringContent("""{"kpis": [{"name": "tips", "value": 1, "entity": 2.5}, {"name": "tips", "value": 1, "entity": true}]}""", Encoding.UTF8, "application/json"), Cancel))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()).ShouldBe(
            [
                "item 0: entity 2.5 is not a whole number (feature view 'tips' reads KPI 'tips' by entity 'rider', whose keys are int64)",
                "item 1: entity true is not a number (feature view 'tips' reads KPI 'tips' by entity 'rider', whose keys are int64)",
            ]);
        }

        // Materialized: 7.0 and 7 are one rider, "010" is rider 10; the 8.5 posted before the view is skipped and counted, not rider 9's.
        using var materialized = await client.PostAsJsonAsync("/api/v1/features/materialize", new { views = new[] { "tips" } }, Cancel);
        materialized.StatusCode.ShouldBe(HttpStatusCode.OK, await materialized.Content.ReadAsStringAsync(Cancel));
        var view = (await materialized.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("views").EnumerateArray().ShouldHaveSingleItem();
        (view.GetProperty("rows").GetInt64(), view.GetProperty("skipped_rows").GetInt64()).ShouldBe((3L, 1L), view.ToString());
        view.GetProperty("skipped").GetString().ShouldBe("1 row(s) of kpi:tips skipped: their 'entity' is not a whole number (8.5); entity 'rider' has int64 keys");
        // Counted for Prometheus too (at least this run's row: the other engine's run of this test counts in the same process).
        (await client.GetStringAsync("/metrics", Cancel)).Split('\n').ShouldContain(line => line.StartsWith("ballast_feature_skipped_rows_total{view=\"tips\"} ", StringComparison.Ordinal));
        foreach (var (rider, tips) in new[] { ("7", 7.0), ("9", 5.0), ("10", 6.0) })
        {
            var online = await client.GetFromJsonAsync<JsonElement>($"/api/v1/features/online?service=tips_v1&entity={rider}", Cancel);
            online.GetProperty("features").GetProperty("tips").GetDouble().ShouldBe(tips, rider);
        }
    }

    private static async Task PostKpisJsonAsync(HttpClient client, string json, HttpStatusCode expected)
    {
        using var response = await client.PostAsync("/api/v1/kpis", new StringContent(json, Encoding.UTF8, "application/json"), Cancel);
        response.StatusCode.ShouldBe(expected, await response.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task PostKpisAsync(HttpClient client, object body, HttpStatusCode expected)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/kpis", body, Cancel);
        response.StatusCode.ShouldBe(expected, await response.Content.ReadAsStringAsync(Cancel));
    }

    private static Task<HttpResponseMessage> PutAsync(HttpClient client, string name, string json) =>
        client.PutAsync($"/api/v1/features/{name}", new StringContent(json, Encoding.UTF8, "application/json"), Cancel);

    /// <summary>Registers the Titanic ONNX fixture with a feature service; returns the signature the registration answered.</summary>
    private static async Task<JsonElement> RegisterTitanicAsync(HttpClient client, string featureService)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(featureService), "feature_service");
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("titanic_pipeline.onnx"), Cancel));
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "titanic_pipeline.onnx");
        using var response = await client.PostAsync("/api/v1/models/titanic/versions", form, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("signature").Clone();
    }
}

public sealed class SqliteStreamFeatureServerTests() : StreamFeatureServerTests(DatabaseEngine.Sqlite);

public sealed class PostgresStreamFeatureServerTests() : StreamFeatureServerTests(DatabaseEngine.Postgres);
