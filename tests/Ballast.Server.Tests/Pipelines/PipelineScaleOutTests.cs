using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Tests.Metadata;
using Dapper;

namespace Ballast.Tests.Pipelines;

/// <summary>Two replicas on one PostgreSQL database, as a scale-out deployment runs them.</summary>
public sealed class PipelineScaleOutTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_replicas_fire_each_cron_occurrence_once_and_run_each_step_once()
    {
        var (location, drop) = await TestDatabases.CreateAsync(DatabaseEngine.Postgres);
        var artifacts = Directory.CreateTempSubdirectory("ballast-pipeline-artifacts-").FullName;
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(location.ConnectionString);
            var database = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
            await using var first = await RunningServer.StartAsync(options => options with { Database = database, Artifacts = artifacts });
            await using var second = await RunningServer.StartAsync(options => options with { Database = database, Artifacts = artifacts });
            using var one = first.Client();
            using var two = second.Client();

            // Every second (6-field cron); both replicas see the schedule.
            (await one.PutAsJsonAsync("/api/v1/pipelines/tick", new
            {
                steps = new object[] { new { name = "a", kind = "echo", with = new { x = 1 } } },
                schedule = new { cron = "* * * * * *", time_zone = "UTC" },
            }, Cancel)).EnsureSuccessStatusCode();

            var runs = await Eventually.UntilAsync(
                async () => (await two.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/tick/runs", Cancel)).GetProperty("runs").EnumerateArray().ToList(),
                runs => runs.Count(run => run.GetProperty("status").GetString() == "succeeded") >= 3,
                TimeSpan.FromMilliseconds(50));

            runs.Count(run => run.GetProperty("status").GetString() == "succeeded").ShouldBeGreaterThanOrEqualTo(3, string.Join("\n", runs));
            runs.ShouldAllBe(run => run.GetProperty("trigger").GetString() == "schedule");

            await using var check = await MetadataMigrator.OpenMigratedAsync(location, Cancel);
            await using var connection = await check.OpenAsync(Cancel);
            var keys = (await connection.QueryAsync<string>("SELECT dedupe_key FROM pipeline_runs WHERE pipeline = 'tick'")).ToList();
            keys.Count.ShouldBe(keys.Distinct().Count(), "one run per occurrence");
            var seconds = keys.Select(key => DateTimeOffset.Parse(key["schedule:".Length..], System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
            seconds.Zip(seconds.Skip(1), (a, b) => b - a).ShouldAllBe(gap => gap >= TimeSpan.FromSeconds(1));
            (await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM step_runs WHERE attempts > 1")).ShouldBe(0, "no step ran twice");
        }
        finally
        {
            await drop();
            Directory.Delete(artifacts, recursive: true);
        }
    }
}
