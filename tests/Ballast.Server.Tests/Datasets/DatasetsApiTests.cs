using Ballast.Metadata;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ballast.Tests.Datasets;

/// <summary><c>/api/v1/datasets</c> on a real Kestrel port, and <c>ballast data</c> run as a process against it.</summary>
public abstract class DatasetsApiTests(DatabaseEngine engine) : EngineServerTest(engine)
{

    [Fact]
    public async Task Files_are_uploaded_by_hash_versioned_profiled_and_downloaded_over_http()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var csv = "age,plan\n31,basic\n45,pro\n,basic\n"u8.ToArray();
        var sha = Convert.ToHexStringLower(SHA256.HashData(csv));

        (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/datasets/blobs/{sha}"), Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using (var wrong = await client.PutAsync($"/api/v1/datasets/blobs/{sha}", new ByteArrayContent("tampered"u8.ToArray()), Cancel))
        {
            wrong.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            wrong.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await wrong.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldContain($"not {sha}");
        }

        (await client.PutAsync($"/api/v1/datasets/blobs/{sha}", new ByteArrayContent(csv), Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/datasets/blobs/{sha}"), Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var body = new { files = new[] { new { path = "train.csv", size = csv.Length, sha256 = sha } }, message = "first" };
        using var created = await client.PostAsJsonAsync("/api/v1/datasets/churn/versions", body, Cancel);
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        created.Headers.Location!.ToString().ShouldBe("/api/v1/datasets/churn/versions/1");
        var version = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("version");
        version.GetProperty("row_count").GetInt64().ShouldBe(3);
        var age = version.GetProperty("profile").GetProperty("tables")[0].GetProperty("columns")[0];
        (age.GetProperty("name").GetString(), age.GetProperty("nulls").GetInt64(), age.GetProperty("mean").GetDouble()).ShouldBe(("age", 1L, 38.0));

        using var again = await client.PostAsJsonAsync("/api/v1/datasets/churn/versions", body, Cancel);
        again.StatusCode.ShouldBe(HttpStatusCode.OK, "the same files: the existing version");
        (await again.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("created").GetBoolean().ShouldBeFalse();

        (await client.GetByteArrayAsync("/api/v1/datasets/churn/versions/latest/files/train.csv", Cancel)).ShouldBe(csv);
        (await client.GetByteArrayAsync($"/api/v1/datasets/blobs/{sha}", Cancel)).ShouldBe(csv);
        var listed = await client.GetFromJsonAsync<JsonElement>("/api/v1/datasets", Cancel);
        listed.GetProperty("datasets")[0].GetProperty("latest_version").GetInt64().ShouldBe(1);

        using var missing = await client.PostAsJsonAsync("/api/v1/datasets/churn/versions", new { files = new[] { new { path = "x.csv", size = 1, sha256 = new string('a', 64) } } }, Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldStartWith("1 file(s) of the manifest have not been uploaded: 'x.csv'");
        using var unknown = await client.GetAsync("/api/v1/datasets/churn/versions/9", Cancel);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var noFiles = await client.PostAsJsonAsync("/api/v1/datasets/churn/versions", new { message = "x" }, Cancel);
        noFiles.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Ballast_data_adds_gets_lists_shows_and_diffs_versions()
    {
        await using var server = await StartServerAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        var work = Directory.CreateTempSubdirectory("ballast-data-cli-");
        try
        {
            var source = Directory.CreateDirectory(Path.Combine(work.FullName, "churn"));
            Directory.CreateDirectory(Path.Combine(source.FullName, "raw"));
            File.Copy(TestServices.Fixture("davis.csv"), Path.Combine(source.FullName, "train.csv"));
            var blob = new byte[300_000];
            new Random(3).NextBytes(blob);
            await File.WriteAllBytesAsync(Path.Combine(source.FullName, "raw", "blob.bin"), blob, Cancel);

            var first = await CliProcess.RunAsync("data", "add", source.FullName, "--name", "davis", "-m", "survey", "--url", url);
            first.ExitCode.ShouldBe(0, first.ToString());
            first.Output.ShouldStartWith("davis@1 added: 2 file(s)");
            first.Output.ShouldContain("200 rows");

            var same = await CliProcess.RunAsync("data", "add", source.FullName, "--name", "davis", "--url", url);
            same.Output.ShouldStartWith("davis@1 unchanged");

            // Version 2: drop the rows with a missing reported weight, and a column.
            var lines = File.ReadAllLines(Path.Combine(source.FullName, "train.csv"));
            File.WriteAllLines(Path.Combine(source.FullName, "train.csv"), lines.Where(line => !line.Contains(",,", StringComparison.Ordinal) && !line.EndsWith(',')).Select(line => line[(line.IndexOf(',') + 1)..]));
            var second = await CliProcess.RunAsync("data", "add", source.FullName, "--name", "davis", "--url", url, "--json");
            second.ExitCode.ShouldBe(0, second.ToString());
            JsonDocument.Parse(second.Output).RootElement.GetProperty("version").GetProperty("version").GetInt64().ShouldBe(2);

            var output = Path.Combine(work.FullName, "restored");
            var get = await CliProcess.RunAsync("data", "get", "davis@1", "-o", output, "--url", url);
            get.ExitCode.ShouldBe(0, get.ToString());
            (await File.ReadAllBytesAsync(Path.Combine(output, "train.csv"), Cancel)).ShouldBe(await File.ReadAllBytesAsync(TestServices.Fixture("davis.csv"), Cancel));
            (await File.ReadAllBytesAsync(Path.Combine(output, "raw", "blob.bin"), Cancel)).ShouldBe(blob);

            (await CliProcess.RunAsync("data", "list", "--url", url)).Output.ShouldContain("davis");
            var versions = await CliProcess.RunAsync("data", "show", "davis", "--url", url);
            versions.Output.ShouldStartWith("VERSION");
            versions.Output.ShouldContain("survey");
            var show = await CliProcess.RunAsync("data", "show", "davis@1", "--url", url);
            show.ExitCode.ShouldBe(0, show.ToString());
            show.Output.ShouldContain("train.csv (csv, 200 rows)");
            show.Output.ShouldContain("F:112 M:88");

            var diff = await CliProcess.RunAsync("data", "diff", "davis@1", "davis@2", "--url", url);
            diff.ExitCode.ShouldBe(0, diff.ToString());
            diff.Output.ShouldContain("~ train.csv");
            diff.Output.ShouldContain("- column rownames BIGINT");
            diff.Output.ShouldContain("null_fraction");
            var json = JsonDocument.Parse((await CliProcess.RunAsync("data", "diff", "davis@1", "davis@2", "--url", url, "--json")).Output).RootElement;
            var table = json.GetProperty("tables")[0];
            table.GetProperty("rows_after").GetInt64().ShouldBeLessThan(200);

            var bad = await CliProcess.RunAsync("data", "show", "davis@7", "--url", url);
            bad.ExitCode.ShouldBe(1);
            bad.Error.ShouldBe("error: Dataset 'davis' has no version 7; `ballast data show davis` lists its versions.\n");

            // A blob that no longer hashes to its address (damaged in the store) is refused, and nothing of it is left behind.
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(TestServices.Fixture("davis.csv"), Cancel)));
            await File.WriteAllTextAsync(Path.Combine(server.DataDir, "artifacts", "datasets", "sha256", sha[..2], sha), "damaged", Cancel);
            var damaged = Path.Combine(work.FullName, "damaged");
            var refused = await CliProcess.RunAsync("data", "get", "davis@1", "-o", damaged, "--url", url);
            refused.ExitCode.ShouldBe(1, refused.ToString());
            refused.Error.ShouldStartWith("error: 'train.csv' arrived with SHA-256 ");
            refused.Error.ShouldContain($", not {sha}; nothing was kept.");
            Directory.EnumerateFiles(damaged, "*", SearchOption.AllDirectories).Select(file => Path.GetRelativePath(damaged, file))
                .ShouldBe([Path.Combine("raw", "blob.bin")], "the file before it in path order arrived whole; neither train.csv nor its .partial stays");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_run_created_on_a_dataset_version_links_it_to_the_model_in_lineage_and_the_card()
    {
        await using var server = await StartServerAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using var client = server.Client();
        (await CliProcess.RunAsync("data", "add", TestServices.Fixture("davis.csv"), "--name", "davis", "--url", url)).ExitCode.ShouldBe(0);

        var created = await CliProcess.RunAsync("runs", "create", "--name", "fit", "--input", "davis@1", "--url", url);
        created.ExitCode.ShouldBe(0, created.ToString());
        var runId = created.Output.Trim();
        var refused = await CliProcess.RunAsync("runs", "create", "--input", "davis@5", "--url", url);
        refused.ExitCode.ShouldBe(1);
        refused.Error.ShouldContain("has no version 5");

        await Tracking.MlflowHttp.PostAsync(client, "registered-models/create", new { name = "weight" });
        await Tracking.MlflowHttp.PostAsync(client, "model-versions/create", new { name = "weight", source = $"runs:/{runId}/model", run_id = runId });

        var lineage = await client.GetFromJsonAsync<JsonElement>("/api/v1/lineage/model-versions/weight/1", Cancel);
        var dataset = lineage.GetProperty("nodes").EnumerateArray().Single(node => node.GetProperty("kind").GetString() == "dataset_version");
        dataset.GetProperty("id").GetString().ShouldBe("dataset_version:davis@1");
        dataset.GetProperty("properties").GetProperty("rows").GetString().ShouldBe("200");
        lineage.GetProperty("edges").EnumerateArray().ShouldContain(edge => edge.GetProperty("from").GetString() == "dataset_version:davis@1" && edge.GetProperty("context").GetString() == "training");

        var card = await client.GetFromJsonAsync<JsonElement>("/api/v1/models/weight/versions/1/card", Cancel);
        var data = card.GetProperty("training_data")[0];
        data.GetProperty("dataset_version").GetString().ShouldBe("davis@1");
        data.GetProperty("profile").GetString().ShouldBe("{\"num_rows\":200}");
        (await client.GetStringAsync("/api/v1/models/weight/versions/1/card?format=markdown", Cancel)).ShouldContain("| training | davis@1 |");
    }
}

public sealed class SqliteDatasetsApiTests() : DatasetsApiTests(DatabaseEngine.Sqlite);

public sealed class PostgresDatasetsApiTests() : DatasetsApiTests(DatabaseEngine.Postgres);
