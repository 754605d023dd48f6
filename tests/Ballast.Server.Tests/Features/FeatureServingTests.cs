using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ballast.Cli;
using Ballast.Tests.Serving;
using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Features;

/// <summary>
/// The feature store on a real Kestrel server: a feature set applied from YAML, materialized into the online store
/// (embedded, or Redis), endpoints enriched from it with the reject and default policies in the V2 and MLflow protocols,
/// the enriched row in the prediction log, online lookups, a training set through the CLI and the consistency check.
/// </summary>
public abstract class FeatureServingTests
{
    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    protected abstract string? OnlineStore { get; }

    /// <summary>Tells the endpoints of the two stores apart in the process-wide metrics.</summary>
    protected abstract string Kind { get; }

    protected const string Passengers = """
        passenger_id,updated_at,pclass,sex,age_months,embarked
        1,2026-11-01 00:00:00,1,female,348,S
        2,2026-11-01 00:00:00,3,male,300,Q
        2,2026-11-20 00:00:00,3,male,312,C
        3,2026-11-01 00:00:00,2,female,,S
        """;

    protected const string FeatureSet = """
        kind: FeatureSet
        name: titanic
        entities:
          - name: passenger
            join_key: passenger_id
            type: int64
        views:
          - name: passenger_profile
            entity: passenger
            source: {dataset: passengers}
            timestamp: updated_at
            features:
              - {name: pclass, type: int64, default: 3}
              - {name: sex, type: string, default: male}
              - {name: age_months, type: double, default: 360}
              - {name: embarked, type: string, default: S}
        services:
          - name: titanic_v1
            features: ["passenger_profile:*"]
            on_demand:
              - {name: age, type: float, expression: age_months / 12}

        """;

    [Fact]
    public async Task Requests_with_only_an_entity_key_are_enriched_and_missing_features_are_rejected_or_defaulted()
    {
        await using var app = await StartAsync(materialize: false);
        var (client, url, manifest) = (app.Client, app.Url, app.Manifest!);
        (await RunAsync("apply", "-f", manifest, "--url", url)).Output.ShouldBe("featureset/titanic: unchanged (revision 1)\n");

        var materialized = await RunAsync("features", "materialize", "--until", "2026-11-30T00:00:00Z", "--json", "--url", url);
        materialized.Code.ShouldBe(0, materialized.Error);
        var view = JsonDocument.Parse(materialized.Output).RootElement.GetProperty("views")[0];
        (view.GetProperty("rows").GetInt64(), view.GetProperty("changed").GetInt32()).ShouldBe((3, 3));

        await RegisterTitanicAsync(client, "titanic_v1");
        (await client.GetStringAsync("/api/v1/models/titanic/versions/1/card?format=markdown", Cancel))
            .ShouldContain("- **Feature service:** titanic_v1 (its features are the model's inputs: docs/features.md)\n");
        await CreateEndpointAsync(client, $"titanic-reject-{Kind}", "reject");
        await CreateEndpointAsync(client, $"titanic-default-{Kind}", "default");

        // Only the key and a request-time field (fare); pclass, sex, embarked are looked up, age is computed from age_months.
        using var scored = await client.PostAsJsonAsync($"/v2/models/titanic-reject-{Kind}/infer", V2Request([1, 2], [211.3f, 7.9f]), Cancel);
        scored.StatusCode.ShouldBe(HttpStatusCode.OK, await scored.Content.ReadAsStringAsync(Cancel));

        using var rejected = await client.PostAsJsonAsync($"/v2/models/titanic-reject-{Kind}/infer", V2Request([1, 999, 3], [1f, 2f, 3f]), Cancel);
        rejected.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await rejected.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe(
            "feature service 'titanic_v1' is missing features: passenger_id 999 (row 1) has no pclass, sex, age_months, embarked; passenger_id 3 (row 2) has no age_months");

        using var given = await client.PostAsJsonAsync($"/v2/models/titanic-reject-{Kind}/infer", new
        {
            inputs = new object[]
            {
                new { name = "passenger_id", shape = new[] { 1, 1 }, datatype = "INT64", data = new[] { 1 } },
                new { name = "sex", shape = new[] { 1, 1 }, datatype = "BYTES", data = new[] { "male" } },
                new { name = "fare", shape = new[] { 1, 1 }, datatype = "FP32", data = new[] { 1f } },
            },
        }, Cancel);
        given.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await given.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
            .ShouldBe("input 'sex' is a feature of service 'titanic_v1', which the server looks up; send the entity key 'passenger_id' and request-time fields only");

        using var defaulted = await client.PostAsJsonAsync($"/endpoints/titanic-default-{Kind}/invocations",
            new { dataframe_records = new object[] { new { passenger_id = 999, fare = 7.25 }, new { passenger_id = 3, fare = 20.0 } } }, Cancel);
        defaulted.StatusCode.ShouldBe(HttpStatusCode.OK, await defaulted.Content.ReadAsStringAsync(Cancel));

        // The log holds what the model saw: the key, the request field, the looked-up and the computed features.
        var parquet = Path.Combine(Path.GetDirectoryName(manifest)!, "log.parquet");
        await File.WriteAllBytesAsync(parquet, await client.GetByteArrayAsync($"/api/v1/predictions/export?endpoint=titanic-default-{Kind}", Cancel), Cancel);
        var logged = Query(parquet, "SELECT inputs FROM read_parquet('{0}')").ShouldHaveSingleItem();
        var inputs = JsonDocument.Parse(logged).RootElement.EnumerateArray()
            .ToDictionary(input => input.GetProperty("name").GetString()!, input => input.GetProperty("data").GetRawText());
        inputs.ShouldBe(new Dictionary<string, string>
        {
            ["passenger_id"] = "[999,3]", ["fare"] = "[7.25,20]", ["pclass"] = "[3,2]", ["sex"] = """["male","female"]""",
            ["age_months"] = "[360,360]", ["embarked"] = """["S","S"]""", ["age"] = "[30,30]",
        });

        var metrics = await client.GetStringAsync("/metrics", Cancel);
        metrics.ShouldContain($"ballast_feature_lookups_total{{endpoint=\"titanic-reject-{Kind}\",outcome=\"rejected\"}} 1\n");
        metrics.ShouldContain($"ballast_feature_lookups_total{{endpoint=\"titanic-default-{Kind}\",outcome=\"defaulted\"}} 1\n");
        metrics.ShouldContain($"ballast_feature_missing_total{{endpoint=\"titanic-default-{Kind}\",feature=\"age_months\"}} 2\n");
    }

    // A feature declared double for a model input of FP32 (what the pipeline's train step exports) was refused on every
    // request: the looked-up feature is converted to the model's numeric type.
    [Fact]
    public async Task Numeric_features_are_given_to_the_model_in_its_own_input_type()
    {
        await using var app = await StartAsync(FeatureSet.Replace("{name: age, type: float,", "{name: age, type: double,", StringComparison.Ordinal));
        var client = app.Client;
        await RegisterTitanicAsync(client, "titanic_v1");
        await CreateEndpointAsync(client, $"titanic-double-{Kind}", "reject");

        using var scored = await client.PostAsJsonAsync($"/v2/models/titanic-double-{Kind}/infer", V2Request([1, 2], [211.3f, 7.9f]), Cancel);

        scored.StatusCode.ShouldBe(HttpStatusCode.OK, await scored.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task Online_lookups_training_sets_and_the_consistency_check_agree_with_the_definitions()
    {
        await using var app = await StartAsync(featureSet: null);
        var (client, url) = (app.Client, app.Url);
        var node = Ballast.Cli.Manifests.ManifestYaml.Read(FeatureSet)[0].Content!.AsObject();
        node.Remove("kind");
        using (var renamed = await client.PutAsJsonAsync("/api/v1/features/other", JsonDocument.Parse(node.ToJsonString()).RootElement, Cancel))
        {
            renamed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await renamed.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("The body names feature set 'titanic' but the path names 'other'.");
        }

        // The path names the set when the body does not (it was a 400 naming feature set '').
        node.Remove("name");
        var body = JsonDocument.Parse(node.ToJsonString()).RootElement;
        using (var put = await client.PutAsJsonAsync("/api/v1/features/titanic", body, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.Created, await put.Content.ReadAsStringAsync(Cancel));
            (await put.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("name").GetString().ShouldBe("titanic");
        }

        using (var materialize = await client.PostAsJsonAsync("/api/v1/features/materialize", new { until = "2026-11-10T00:00:00Z" }, Cancel))
        {
            materialize.StatusCode.ShouldBe(HttpStatusCode.OK, await materialize.Content.ReadAsStringAsync(Cancel));
        }

        var one = await client.GetFromJsonAsync<JsonElement>("/api/v1/features/online?service=titanic_v1&entity=2", Cancel);
        one.GetProperty("features").GetRawText().ShouldBe("""{"pclass":3,"sex":"male","age_months":300.0,"embarked":"Q"}""");
        using var batch = await client.PostAsJsonAsync("/api/v1/features/online", new { service = "titanic_v1", entities = new[] { "3", "4" } }, Cancel);
        var rows = (await batch.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("rows");
        rows[0].GetProperty("missing").EnumerateArray().Select(name => name.GetString()).ShouldBe(["age_months"]);
        rows[1].GetProperty("missing").GetArrayLength().ShouldBe(4);

        using var unknown = await client.GetAsync("/api/v1/features/online?service=nope&entity=1", Cancel);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        unknown.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");

        // Materialized up to 11-10, the online store lacks passenger 2's 11-20 update: that is skew now.
        var report = await RunAsync("features", "consistency", "--service", "titanic_v1", "--json", "--url", url);
        report.Code.ShouldBe(0, report.Error);
        var skew = JsonDocument.Parse(report.Output).RootElement;
        (skew.GetProperty("sampled").GetInt64(), skew.GetProperty("skewed").GetInt64()).ShouldBe((3, 1));
        (await client.GetStringAsync("/metrics", Cancel)).ShouldContain("ballast_feature_skew_rate{service=\"titanic_v1\"} 0.333");

        var folder = Directory.CreateTempSubdirectory("ballast-training-").FullName;
        var entities = Path.Combine(folder, "entities.csv");
        File.WriteAllText(entities, "passenger_id,event_timestamp,survived\n2,2026-11-10 00:00:00,0\n2,2026-11-25 00:00:00,1\n1,2026-10-01 00:00:00,1\n");
        var output = Path.Combine(folder, "train.parquet");
        var training = await RunAsync("features", "training-set", "--service", "titanic_v1", "--entities", entities, "-o", output, "--url", url);
        training.Code.ShouldBe(0, training.Error);
        training.Output.ShouldBe($"wrote {output}: 3 rows (features from passengers@1)\n");
        var joined = Query(output, "SELECT concat_ws(',', passenger_id, survived, coalesce(embarked, 'null'), coalesce(CAST(age AS VARCHAR), 'null')) FROM read_parquet('{0}')");
        joined.ShouldBe(["2,0,Q,25.0", "2,1,C,26.0", "1,1,null,null"]);

        // Rows the join cannot read are the caller's mistake (a 500 before).
        foreach (var bad in new[] { "passenger_id,event_timestamp\n2,notadate\n", "passenger_id,event_timestamp\nabc,2026-11-10 00:00:00\n" })
        {
            using var refused = await client.PostAsync("/api/v1/features/training-set?service=titanic_v1", new StringContent(bad, Encoding.UTF8, "text/csv"), Cancel);
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await refused.Content.ReadAsStringAsync(Cancel));
            (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldStartWith("The entity rows could not be joined: ");
        }
    }

    // An int64 entity's 2.0 (what Python's json writes for a float column) or "2" looked up nothing online, while a
    // training set read it as key 2; a fraction was looked up as a key no row has (or rounded, in a training set).
    [Fact]
    public async Task An_int64_key_sent_as_2_point_0_or_text_is_key_2_everywhere_and_a_fraction_is_refused_naming_the_key()
    {
        await using var app = await StartAsync();
        var (client, url, manifest) = (app.Client, app.Url, app.Manifest!);
        const string Two = """{"pclass":3,"sex":"male","age_months":312.0,"embarked":"C"}""";

        foreach (var entity in new[] { "2", "2.0", "02", "%202%20" })
        {
            var one = await client.GetFromJsonAsync<JsonElement>($"/api/v1/features/online?service=titanic_v1&entity={entity}", Cancel);
            (one.GetProperty("entity").GetString(), one.GetProperty("features").GetRawText()).ShouldBe(("2", Two), entity);
        }

        using (var batch = await client.PostAsync("/api/v1/features/online", Json("""{"service": "titanic_v1", "entities": [2, 2.0, "2", "2.0", 2e0, 3]}"""), Cancel))
        {
            batch.StatusCode.ShouldBe(HttpStatusCode.OK, await batch.Content.ReadAsStringAsync(Cancel));
            var rows = (await batch.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("rows").EnumerateArray().ToList();
            rows.Select(row => row.GetProperty("entity").GetString()).ShouldBe(["2", "2", "2", "2", "2", "3"]);
            rows.Take(5).ShouldAllBe(row => row.GetProperty("features").GetRawText() == Two);
        }

        using (var fraction = await client.PostAsync("/api/v1/features/online", Json("""{"service": "titanic_v1", "entities": [2, 1.5, "x", true]}"""), Cancel))
        {
            fraction.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            fraction.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await fraction.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
                "entities holds values that are not keys of entity 'passenger' (int64 join key 'passenger_id'): entities[1] 1.5: not a whole number; entities[2] \"x\": not a number; entities[3] true: not a number.");
        }

        using (var fraction = await client.GetAsync("/api/v1/features/online?service=titanic_v1&entity=1.5", Cancel))
        {
            fraction.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await fraction.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
                .ShouldBe("entity '1.5' is not a key of entity 'passenger' (int64 join key 'passenger_id'): not a whole number.");
        }

        // Scoring: V2 with the key as FP64 or as INT64 written 2.0, MLflow with 2.0 and "2.0" (and the log has INT64 2).
        await RegisterTitanicAsync(client, "titanic_v1");
        await CreateEndpointAsync(client, $"titanic-keys-{Kind}", "reject");
        foreach (var datatype in new[] { "FP64", "INT64", "BYTES" })
        {
            var key = datatype == "BYTES" ? "\"2.0\"" : "2.0";
            using var scored = await client.PostAsync($"/v2/models/titanic-keys-{Kind}/infer", Json($$"""
                {"inputs": [{"name": "passenger_id", "shape": [1, 1], "datatype": "{{datatype}}", "data": [{{key}}]}, {"name": "fare", "shape": [1, 1], "datatype": "FP32", "data": [7.9]}]}
                """), Cancel);
            scored.StatusCode.ShouldBe(HttpStatusCode.OK, $"{datatype}: {await scored.Content.ReadAsStringAsync(Cancel)}");
        }

        using (var fraction = await client.PostAsync($"/v2/models/titanic-keys-{Kind}/infer", Json("""
            {"inputs": [{"name": "passenger_id", "shape": [2, 1], "datatype": "FP64", "data": [2, 1.5]}, {"name": "fare", "shape": [2, 1], "datatype": "FP32", "data": [7.9, 1]}]}
            """), Cancel))
        {
            fraction.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await fraction.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
                .ShouldBe("input 'passenger_id' must hold keys of entity 'passenger' (int64): 1.5 (row 1) is not a whole number");
        }

        using (var mlflow = await client.PostAsync($"/endpoints/titanic-keys-{Kind}/invocations", Json("""
            {"dataframe_split": {"columns": ["passenger_id", "fare"], "data": [[2.0, 7.9], ["2.0", 7.9], [1, 211.3]]}}
            """), Cancel))
        {
            mlflow.StatusCode.ShouldBe(HttpStatusCode.OK, await mlflow.Content.ReadAsStringAsync(Cancel));
        }

        using (var fraction = await client.PostAsync($"/endpoints/titanic-keys-{Kind}/invocations", Json("""{"dataframe_records": [{"passenger_id": 1.5, "fare": 7.9}]}"""), Cancel))
        {
            fraction.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await fraction.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString().ShouldBe("input 'passenger_id': value 0 (1.5) is not an INT64");
        }

        var folder = Path.GetDirectoryName(manifest)!;
        var parquet = Path.Combine(folder, "log.parquet");
        await File.WriteAllBytesAsync(parquet, await client.GetByteArrayAsync($"/api/v1/predictions/export?endpoint=titanic-keys-{Kind}", Cancel), Cancel);
        Query(parquet, "SELECT CAST(inputs AS VARCHAR) FROM read_parquet('{0}')").ShouldAllBe(inputs => inputs.Contains("\"name\":\"passenger_id\",\"datatype\":\"INT64\""));

        // Training sets read 2.0 as 2 and refuse 1.5 (the cast rounded it to 2).
        var output = Path.Combine(folder, "train.parquet");
        var entities = Path.Combine(folder, "entities.csv");
        File.WriteAllText(entities, "passenger_id,event_timestamp\n2.0,2026-11-25 00:00:00\n");
        var training = await RunAsync("features", "training-set", "--service", "titanic_v1", "--entities", entities, "-o", output, "--url", url);
        training.Code.ShouldBe(0, training.Error);
        Query(output, "SELECT concat_ws(',', passenger_id, embarked) FROM read_parquet('{0}')").ShouldBe(["2.0,C"]);
        using var refused = await client.PostAsync("/api/v1/features/training-set?service=titanic_v1",
            new StringContent("passenger_id,event_timestamp\n2,2026-11-25 00:00:00\n1.5,2026-11-25 00:00:00\n", Encoding.UTF8, "text/csv"), Cancel);
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await refused.Content.ReadAsStringAsync(Cancel));
        (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("The entities file has 'passenger_id' values that are not whole numbers (1.5); entity 'passenger' has int64 keys.");
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The first column of a query over a Parquet file ({0} is its path), as text.</summary>
    internal static List<string> Query(string parquet, string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, parquet.Replace("'", "''", StringComparison.Ordinal));
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    protected static object V2Request(int[] passengers, float[] fares) => new
    {
        inputs = new object[]
        {
            new { name = "passenger_id", shape = new[] { passengers.Length, 1 }, datatype = "INT64", data = passengers },
            new { name = "fare", shape = new[] { fares.Length, 1 }, datatype = "FP32", data = fares },
        },
    };

    private static async Task CreateEndpointAsync(HttpClient client, string name, string policy)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse($$$"""
            {"name": "{{{name}}}", "variants": [{"name": "main", "model": "models:/titanic/1"}], "features": {"service": "titanic_v1", "on_missing": "{{{policy}}}"}}
            """).RootElement, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("features").GetProperty("on_missing").GetString().ShouldBe(policy);
    }

    /// <summary>
    /// What the tests start from: a server (with this class's online store; on <paramref name="time"/> when given) with
    /// the passengers dataset and, unless <paramref name="featureSet"/> is null, that feature set written to a manifest
    /// file and applied with `ballast apply`, then (with <paramref name="materialize"/>) materialized until 2026-11-30.
    /// </summary>
    protected async Task<FeatureServer> StartAsync(string? featureSet = FeatureSet, bool materialize = true, TimeProvider? time = null)
    {
        var server = await RunningServer.StartAsync(options => options with { OnlineStore = OnlineStore }, time: time);
        var app = new FeatureServer(server, server.Client(), server.BaseAddress.ToString().TrimEnd('/'), null);
        try
        {
            await ServingHelpers.AddDatasetAsync(app.Client, "passengers", Passengers);
            if (featureSet is null)
            {
                return app;
            }

            var manifest = Path.Combine(Directory.CreateTempSubdirectory("ballast-features-").FullName, "features.yaml");
            File.WriteAllText(manifest, featureSet.ReplaceLineEndings("\n"));
            var applied = await RunAsync("apply", "-f", manifest, "--url", app.Url);
            applied.Code.ShouldBe(0, applied.Error);
            if (materialize)
            {
                (await RunAsync("features", "materialize", "--until", "2026-11-30T00:00:00Z", "--url", app.Url)).Code.ShouldBe(0);
            }

            return app with { Manifest = manifest };
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>A started server with a client; <see cref="Manifest"/> is the applied feature set's file (its folder is the test's scratch folder).</summary>
    protected sealed record FeatureServer(RunningServer Server, HttpClient Client, string Url, string? Manifest) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Server.DisposeAsync();
        }
    }

    protected static async Task RegisterTitanicAsync(HttpClient client, string? featureService = null)
    {
        using var form = new MultipartFormDataContent();
        if (featureService is not null)
        {
            form.Add(new StringContent(featureService), "feature_service");
        }

        var file = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("titanic_pipeline.onnx"), Cancel));
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "titanic_pipeline.onnx");
        using var response = await client.PostAsync("/api/v1/models/titanic/versions", form, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
    }

    protected static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BallastCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}

public sealed class EmbeddedFeatureServingTests : FeatureServingTests
{
    protected override string? OnlineStore => null;

    protected override string Kind => "embedded";

    [Fact]
    public async Task A_server_whose_redis_online_store_is_unreachable_does_not_start_and_says_why()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var error = await Should.ThrowAsync<Ballast.Configuration.BallastStartupException>(() =>
            RunningServer.StartAsync(options => options with { OnlineStore = $"redis://127.0.0.1:{port}" }));

        error.Message.ShouldStartWith($"Cannot reach the Redis online store at 127.0.0.1:{port}: ");
    }

    [Fact]
    public async Task The_server_materializes_every_view_on_its_own_once_a_minute()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        await using var app = await StartAsync(featureSet: null, time: time);
        var client = app.Client;
        var node = Ballast.Cli.Manifests.ManifestYaml.Read(FeatureSet)[0].Content!.AsObject();
        node.Remove("kind");
        using (var put = await client.PutAsync("/api/v1/features/titanic", new StringContent(node.ToJsonString(), Encoding.UTF8, "application/json"), Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.Created, await put.Content.ReadAsStringAsync(Cancel));
        }

        (await client.GetFromJsonAsync<JsonElement>("/api/v1/features/online?service=titanic_v1&entity=2", Cancel)).GetProperty("missing").GetArrayLength().ShouldBe(4);

        // Move the clock in 5 s ticks (the catalog refresh) until the minute's run has written passenger 2's latest values.
        JsonElement found = default;
        for (var i = 0; i < 200; i++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(25, Cancel);
            found = await client.GetFromJsonAsync<JsonElement>("/api/v1/features/online?service=titanic_v1&entity=2", Cancel);
            if (found.GetProperty("missing").GetArrayLength() == 0)
            {
                break;
            }
        }

        found.GetProperty("features").GetProperty("embarked").GetString().ShouldBe("C", found.ToString());
        time.GetUtcNow().ShouldBeGreaterThanOrEqualTo(new DateTimeOffset(2026, 12, 1, 0, 1, 0, TimeSpan.Zero), "not before a minute has passed");
    }

    [Fact]
    public async Task An_endpoint_refuses_models_trained_on_another_feature_service_and_an_alias_move_to_one_keeps_the_previous_version()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        await using var app = await StartAsync(FeatureSet + """
              - name: titanic_v2
                features: ["passenger_profile:*"]
                on_demand:
                  - {name: age, type: float, expression: age_months / 12}

            """, time: time);
        var (server, client, url, manifest) = (app.Server, app.Client, app.Url, app.Manifest!);
        await RegisterTitanicAsync(client, "titanic_v1");
        await RegisterTitanicAsync(client, "titanic_v2");
        await RegisterTitanicAsync(client);

        // Created or replaced (API and apply): a variant or shadow trained on another service is refused, naming both.
        using (var created = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "titanic-mixed", "variants": [{"name": "main", "model": "models:/titanic/1"}], "shadows": [{"name": "next", "model": "models:/titanic/2"}],
             "features": {"service": "titanic_v1"}}
            """).RootElement, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            created.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
                "Invalid endpoint 'titanic-mixed': shadow 'next' (models:/titanic/2) is model version titanic/2, trained on feature service 'titanic_v2', "
                + "but endpoint 'titanic-mixed' is enriched from feature service 'titanic_v1'. Route to versions registered with feature service 'titanic_v1' (or with none), or change features.service.");
        }

        var endpoint = Path.Combine(Path.GetDirectoryName(manifest)!, "endpoint.yaml");
        File.WriteAllText(endpoint, "kind: Endpoint\nname: titanic-v2\nvariants:\n  - {name: main, model: \"models:/titanic/2\"}\nfeatures: {service: titanic_v1}\n");
        var applied = await RunAsync("apply", "-f", endpoint, "--url", url);
        applied.Code.ShouldBe(1);
        applied.Error.ShouldContain("variant 'main' (models:/titanic/2) is model version titanic/2, trained on feature service 'titanic_v2', but endpoint 'titanic-v2' is enriched from feature service 'titanic_v1'");

        // A version with no recorded service is allowed; so is one of the same service.
        File.WriteAllText(endpoint, "kind: Endpoint\nname: titanic-v2\nvariants:\n  - {name: main, model: \"models:/titanic/3\"}\nfeatures: {service: titanic_v2}\n");
        (await RunAsync("apply", "-f", endpoint, "--url", url)).Code.ShouldBe(0);

        // A rollout to a version of another service would never take traffic: refused up front.
        using (var rollout = await client.PostAsJsonAsync("/api/v1/rollouts", new
        {
            name = "titanic-next", endpoint = "titanic-v2", model = "models:/titanic/1", steps = new object[] { new { setWeight = 50 } },
        }, Cancel))
        {
            rollout.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await rollout.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
                "Invalid rollout 'titanic-next': variant 'canary' (models:/titanic/1) is model version titanic/1, trained on feature service 'titanic_v1', "
                + "but endpoint 'titanic-v2' is enriched from feature service 'titanic_v2'; a rollout's model must be trained on the endpoint's feature service (or record none).");
        }

        // An alias moved to a version trained on another service: the re-point is refused, the previous version keeps serving.
        await SetAliasAsync(client, "champion", "1");
        using (var created = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "titanic-champion", "variants": [{"name": "main", "model": "models:/titanic@champion"}], "features": {"service": "titanic_v1"}}
            """).RootElement, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
        }

        var router = server.App.Services.GetRequiredService<Ballast.Serving.EndpointRouter>();
        await SetAliasAsync(client, "champion", "2");
        await router.RefreshAsync(Cancel);
        var status = (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/titanic-champion", Cancel)).GetProperty("status");
        status.GetProperty("ready").GetBoolean().ShouldBeFalse();
        status.GetProperty("problem").GetString().ShouldBe(
            "refused: variant 'main' (models:/titanic@champion) is model version titanic/2, trained on feature service 'titanic_v2', but endpoint 'titanic-champion' "
            + "is enriched from feature service 'titanic_v1'; still serving main=titanic/1");
        using (var scored = await client.PostAsJsonAsync("/v2/models/titanic-champion/infer", V2Request([1], [7.25f]), Cancel))
        {
            scored.StatusCode.ShouldBe(HttpStatusCode.OK, await scored.Content.ReadAsStringAsync(Cancel));
            scored.Headers.GetValues("Ballast-Model-Version").ShouldBe(["titanic/1"]);
        }

        const string Refused = "ballast_endpoint_feature_service_mismatch{endpoint=\"titanic-champion\",variant=\"main\"}";
        await TickUntilAsync(client, time, Refused + " 1\n");

        // Moved on to a version without a recorded service: served, and the gauge falls back to 0.
        await SetAliasAsync(client, "champion", "3");
        await router.RefreshAsync(Cancel);
        status = (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/titanic-champion", Cancel)).GetProperty("status");
        status.GetProperty("ready").GetBoolean().ShouldBeTrue(status.ToString());
        status.GetProperty("serving")[0].GetProperty("model").GetString().ShouldBe("titanic/3");
        await TickUntilAsync(client, time, Refused + " 0\n");

        // The reverse: no feature service on the endpoint, a model trained with one: allowed, with a warning.
        using (var plain = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "titanic-plain", "variants": [{"name": "main", "model": "models:/titanic/1"}]}
            """).RootElement, Cancel))
        {
            plain.StatusCode.ShouldBe(HttpStatusCode.Created, await plain.Content.ReadAsStringAsync(Cancel));
            (await plain.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("warnings").EnumerateArray().Select(warning => warning.GetString()).ShouldBe([
                "variant 'main' serves titanic/1, trained on feature service 'titanic_v1', but the endpoint has no features.service: nothing is looked up, "
                + "so requests must carry every feature themselves (set features.service: titanic_v1 to send only the entity key)"]);
        }

        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/titanic-v2", Cancel)).TryGetProperty("warnings", out _).ShouldBeFalse();
        File.WriteAllText(endpoint, "kind: Endpoint\nname: titanic-plain\nvariants:\n  - {name: main, model: \"models:/titanic/2\"}\n");
        var warned = await RunAsync("apply", "-f", endpoint, "--url", url);
        warned.Code.ShouldBe(0, warned.Error);
        warned.Output.ShouldContain("; warning: variant 'main' serves titanic/2, trained on feature service 'titanic_v2', but the endpoint has no features.service");
    }

    private static async Task SetAliasAsync(HttpClient client, string alias, string version)
    {
        using var response = await client.PostAsJsonAsync("/api/2.0/mlflow/registered-models/alias", new { name = "titanic", alias, version }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
    }

    /// <summary>Moves the clock in 5 s ticks (the routing refresh) until the metrics show <paramref name="line"/>.</summary>
    private static async Task TickUntilAsync(HttpClient client, Microsoft.Extensions.Time.Testing.FakeTimeProvider time, string line)
    {
        var metrics = "";
        for (var i = 0; i < 200 && !metrics.Contains(line, StringComparison.Ordinal); i++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(25, Cancel);
            metrics = await client.GetStringAsync("/metrics", Cancel);
        }

        metrics.ShouldContain(line);
    }

    [Fact]
    public async Task An_online_store_that_is_not_redis_is_a_configuration_error()
    {
        var error = await Should.ThrowAsync<Ballast.Configuration.BallastStartupException>(() =>
            RunningServer.StartAsync(options => options with { OnlineStore = "memcached://127.0.0.1:11211" }));

        error.Message.ShouldContain("--online-store 'memcached://127.0.0.1:11211' is not a redis://host:port address (leave it out for the embedded store in the metadata database)");
    }
}

public sealed class RedisFeatureServingTests : FeatureServingTests
{
    // A key prefix of its own per test class instance, so tests never see each other's values.
    protected override string? OnlineStore { get; } = $"{TestServices.Redis}?prefix=ballast-test-{Guid.NewGuid():N}:";

    protected override string Kind => "redis";
}
