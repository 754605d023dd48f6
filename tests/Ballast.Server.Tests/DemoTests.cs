namespace Ballast.Tests;

/// <summary><c>ballast demo --fast --exit</c> end to end, as a process: every stage of the loop must happen for exit code 0.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task The_fast_demo_closes_the_loop_from_training_to_recovered_accuracy()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"ballast-demo-test-{Guid.NewGuid():N}");
        try
        {
            // The demo bounds each stage itself (90 s in --fast); the process limit only guards against a hang.
            var result = await CliProcess.RunAsync(["demo", "--fast", "--exit", "--listen", "http://127.0.0.1:0", "--data-dir", folder], null, limit: TimeSpan.FromMinutes(8));

            result.ExitCode.ShouldBe(0, result.Output + result.Error);
            // The console wraps long lines; compare with whitespace runs made single spaces.
            var output = System.Text.RegularExpressions.Regex.Replace(result.Output, @"\s+", " ");
            output.ShouldContain("v1 trained and registered as champion");
            output.ShouldContain("loans-drift firing, drift.share");
            output.ShouldContain("(signature valid)");
            output.ShouldContain("pipeline loans-retrain run");
            output.ShouldContain("step rollout succeeded");
            output.ShouldContain("v2 promoted: champion -> models:/loans/2");
            output.ShouldContain("loans-drift resolved");
            output.ShouldContain("The loop closed");
            File.Exists(Path.Combine(folder, "ballast.db")).ShouldBeTrue();
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_data_dir_that_is_not_empty_is_refused()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-demo-used-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "keep.txt"), "mine", TestContext.Current.CancellationToken);

        var result = await CliProcess.RunAsync(["demo", "--fast", "--exit", "--data-dir", folder], null);

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain($"--data-dir {folder} is not empty; the demo starts from a fresh folder.");
        File.ReadAllText(Path.Combine(folder, "keep.txt")).ShouldBe("mine");
        Directory.Delete(folder, recursive: true);
    }
}
