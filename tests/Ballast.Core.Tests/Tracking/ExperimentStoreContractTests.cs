using Ballast.Metadata;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Tracking;

/// <summary>MLflow experiment semantics, on SQLite and PostgreSQL alike.</summary>
public abstract class ExperimentStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private ExperimentStore Store => new(Database, Time);

    [Fact]
    public async Task The_default_experiment_exists_from_the_start()
    {
        var experiment = await Store.GetAsync("0", Cancel);
        experiment.Name.ShouldBe("Default");
        experiment.LifecycleStage.ShouldBe("active");
        experiment.ArtifactLocation.ShouldBe("mlflow-artifacts:/0");
        (await Store.GetByNameAsync("Default", Cancel)).ExperimentId.ShouldBe("0");
    }

    [Fact]
    public async Task An_experiment_is_created_with_tags_and_read_back_by_id_and_name()
    {
        var id = await Store.CreateAsync("churn", tags: [new TrackingTag("team", "growth"), new TrackingTag("a", null)], cancellationToken: Cancel);
        id.ShouldBe("1");

        var experiment = await Store.GetAsync(id, Cancel);
        experiment.Name.ShouldBe("churn");
        experiment.ArtifactLocation.ShouldBe("mlflow-artifacts:/1");
        experiment.CreationTime.ShouldBe(Time.GetUtcNow().ToUnixTimeMilliseconds());
        experiment.LastUpdateTime.ShouldBe(experiment.CreationTime);
        experiment.Tags.ShouldBe([new TrackingTag("a", null), new TrackingTag("team", "growth")]);
        (await Store.GetByNameAsync("churn", Cancel)).ExperimentId.ShouldBe(id);

        var placed = await Store.CreateAsync("placed", "s3://bucket/custom", cancellationToken: Cancel);
        (await Store.GetAsync(placed, Cancel)).ArtifactLocation.ShouldBe("s3://bucket/custom");
    }

    [Fact]
    public async Task Names_are_unique_even_among_deleted_experiments()
    {
        var id = await Store.CreateAsync("dup", cancellationToken: Cancel);
        var error = await Should.ThrowAsync<TrackingException>(() => Store.CreateAsync("dup", cancellationToken: Cancel));
        error.Code.ShouldBe("RESOURCE_ALREADY_EXISTS");
        error.Message.ShouldBe("Experiment(name=dup) already exists.");

        await Store.DeleteAsync(id, Cancel);
        (await Should.ThrowAsync<TrackingException>(() => Store.CreateAsync("dup", cancellationToken: Cancel))).Code.ShouldBe("RESOURCE_ALREADY_EXISTS");
    }

    [Fact]
    public async Task Unknown_experiments_are_reported_with_mlflows_messages()
    {
        (await Should.ThrowAsync<TrackingException>(() => Store.GetAsync("42", Cancel))).Message.ShouldBe("No Experiment with id=42 exists");
        (await Should.ThrowAsync<TrackingException>(() => Store.GetByNameAsync("nope", Cancel))).Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
        (await Should.ThrowAsync<TrackingException>(() => Store.GetAsync("abc", Cancel))).Code.ShouldBe("INVALID_PARAMETER_VALUE");
    }

    [Fact]
    public async Task Delete_and_restore_move_the_lifecycle_stage_and_the_update_time()
    {
        var id = await Store.CreateAsync("temp", cancellationToken: Cancel);
        Time.Advance(TimeSpan.FromSeconds(5));
        await Store.DeleteAsync(id, Cancel);

        var deleted = await Store.GetAsync(id, Cancel);
        deleted.LifecycleStage.ShouldBe("deleted");
        deleted.LastUpdateTime.ShouldBe(deleted.CreationTime + 5000);
        // mlflow/store/tracking/sqlalchemy_store.py: delete_experiment looks the experiment up with ViewType.ACTIVE_ONLY and
        // restore_experiment with DELETED_ONLY, so a second delete (or restoring an active one) is "No Experiment with id=… exists".
        var again = await Should.ThrowAsync<TrackingException>(() => Store.DeleteAsync(id, Cancel));
        (again.Code, again.Message).ShouldBe(("RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={id} exists"));
        (await Store.GetAsync(id, Cancel)).LastUpdateTime.ShouldBe(deleted.LastUpdateTime);
        (await Should.ThrowAsync<TrackingException>(() => Store.SetTagAsync(id, new TrackingTag("k", "v"), Cancel))).Code.ShouldBe("INVALID_STATE");

        Time.Advance(TimeSpan.FromSeconds(5));
        await Store.RestoreAsync(id, Cancel);
        var restored = await Store.GetAsync(id, Cancel);
        (restored.LifecycleStage, restored.LastUpdateTime).ShouldBe(("active", deleted.LastUpdateTime + 5000));
        var active = await Should.ThrowAsync<TrackingException>(() => Store.RestoreAsync(id, Cancel));
        (active.Code, active.Message).ShouldBe(("RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={id} exists"));
        (await Should.ThrowAsync<TrackingException>(() => Store.DeleteAsync("42", Cancel))).Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
        (await Should.ThrowAsync<TrackingException>(() => Store.DeleteAsync("0", Cancel))).Message.ShouldContain("Cannot delete the default experiment");
    }

    [Fact]
    public async Task Rename_changes_the_name_and_refuses_a_taken_one()
    {
        var id = await Store.CreateAsync("old", cancellationToken: Cancel);
        await Store.CreateAsync("taken", cancellationToken: Cancel);

        await Store.RenameAsync(id, "new", Cancel);
        (await Store.GetAsync(id, Cancel)).Name.ShouldBe("new");
        (await Should.ThrowAsync<TrackingException>(() => Store.RenameAsync(id, "taken", Cancel))).Code.ShouldBe("RESOURCE_ALREADY_EXISTS");
        (await Should.ThrowAsync<TrackingException>(() => Store.RenameAsync(id, " ", Cancel))).Code.ShouldBe("INVALID_PARAMETER_VALUE");
    }

    [Fact]
    public async Task Setting_a_tag_again_replaces_its_value()
    {
        var id = await Store.CreateAsync("tagged", cancellationToken: Cancel);
        await Store.SetTagAsync(id, new TrackingTag("stage", "dev"), Cancel);
        await Store.SetTagAsync(id, new TrackingTag("stage", "prod"), Cancel);
        (await Store.GetAsync(id, Cancel)).Tags.ShouldBe([new TrackingTag("stage", "prod")]);

        var tooLong = new TrackingTag(new string('k', 251), "v");
        (await Should.ThrowAsync<TrackingException>(() => Store.SetTagAsync(id, tooLong, Cancel))).Message.ShouldContain("exceeded length limit of 250");
    }

    [Fact]
    public async Task Search_filters_by_name_and_tags_with_mlflows_comparators()
    {
        // The example of mlflow.search_experiments' docstring: a, b, ab (k=v), bb (k=V).
        await Store.CreateAsync("a", cancellationToken: Cancel);
        await Store.CreateAsync("b", cancellationToken: Cancel);
        await Store.CreateAsync("ab", tags: [new TrackingTag("k", "v")], cancellationToken: Cancel);
        await Store.CreateAsync("bb", tags: [new TrackingTag("k", "V")], cancellationToken: Cancel);

        await NamesAsync("name = 'a'").ShouldBeAsync(["a"]);
        await NamesAsync("name LIKE 'a%'").ShouldBeAsync(["a", "ab"]);
        await NamesAsync("name LIKE 'A%'").ShouldBeAsync([], "LIKE is case-sensitive");
        await NamesAsync("name ILIKE 'A%'").ShouldBeAsync(["a", "ab"]);
        await NamesAsync("name != 'a' AND name != 'Default'").ShouldBeAsync(["b", "ab", "bb"]);
        await NamesAsync("tags.k = 'v'").ShouldBeAsync(["ab"]);
        await NamesAsync("tags.k ILIKE 'v'").ShouldBeAsync(["ab", "bb"]);
        await NamesAsync("tags.`k` = 'V' and attributes.name LIKE '%b'").ShouldBeAsync(["bb"]);
        await NamesAsync($"creation_time >= {Time.GetUtcNow().ToUnixTimeMilliseconds()}").ShouldBeAsync(["a", "b", "ab", "bb"]);
    }

    [Fact]
    public async Task Search_orders_pages_and_respects_the_view_type()
    {
        foreach (var name in new[] { "e1", "e2", "e3", "e4", "e5" })
        {
            await Store.CreateAsync(name, cancellationToken: Cancel);
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        await Store.DeleteAsync((await Store.GetByNameAsync("e3", Cancel)).ExperimentId, Cancel);

        var first = await Store.SearchAsync(new ExperimentSearch(MaxResults: 2), Cancel);
        first.Experiments.Select(e => e.Name).ShouldBe(["e5", "e4"], "newest first by default");
        var second = await Store.SearchAsync(new ExperimentSearch(MaxResults: 2, PageToken: first.NextPageToken), Cancel);
        second.Experiments.Select(e => e.Name).ShouldBe(["e2", "e1"]);
        var last = await Store.SearchAsync(new ExperimentSearch(MaxResults: 2, PageToken: second.NextPageToken), Cancel);
        last.Experiments.Select(e => e.Name).ShouldBe(["Default"]);
        last.NextPageToken.ShouldBeNull();

        (await Store.SearchAsync(new ExperimentSearch(OrderBy: ["name DESC"], ViewType: ViewType.All), Cancel)).Experiments.Select(e => e.Name)
            .ShouldBe(["e5", "e4", "e3", "e2", "e1", "Default"]);
        (await Store.SearchAsync(new ExperimentSearch(ViewType: ViewType.DeletedOnly), Cancel)).Experiments.Select(e => e.Name).ShouldBe(["e3"]);
    }

    [Fact]
    public async Task A_page_token_pages_through_its_own_search_only()
    {
        foreach (var name in new[] { "p1", "p2", "p3", "p4", "p5", "other" })
        {
            await Store.CreateAsync(name, cancellationToken: Cancel);
        }

        await Store.DeleteAsync((await Store.GetByNameAsync("p2", Cancel)).ExperimentId, Cancel);
        var search = new ExperimentSearch("name LIKE 'p%'", ["name DESC"], 2, ViewType: ViewType.All);
        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await Store.SearchAsync(search with { PageToken = token }, Cancel);
            names.AddRange(page.Experiments.Select(e => e.Name));
            token = page.NextPageToken;
        }
        while (token is not null);

        names.ShouldBe(["p5", "p4", "p3", "p2", "p1"]);

        var first = (await Store.SearchAsync(search, Cancel)).NextPageToken;
        foreach (var (other, reason) in new[]
        {
            (search with { Filter = "name LIKE 'o%'" }, "Filter string in the page token does not match the requested filter string. Expected: \"name LIKE 'o%'\". Found: \"name LIKE 'p%'\""),
            (search with { OrderBy = ["name ASC"] }, "Order by in the page token does not match the requested order by. Expected: [\"name ASC\"]. Found: [\"name DESC\"]"),
            (search with { ViewType = ViewType.ActiveOnly }, "View type in the page token does not match the requested view type. Expected: \"ACTIVE_ONLY\". Found: \"ALL\""),
        })
        {
            var error = await Should.ThrowAsync<TrackingException>(() => Store.SearchAsync(other with { PageToken = first }, Cancel));
            error.Code.ShouldBe("INVALID_PARAMETER_VALUE");
            error.Message.ShouldBe(reason);
        }

        (await Store.SearchAsync(search with { MaxResults = 3, PageToken = first }, Cancel)).Experiments.Select(e => e.Name).ShouldBe(["p3", "p2", "p1"], "the page size may change");
        // The previous release's token, base64 of {"offset": 3}: read as its offset, for a client paging across the upgrade.
        (await Store.SearchAsync(search with { PageToken = "eyJvZmZzZXQiOiAzfQ==" }, Cancel)).Experiments.Select(e => e.Name).ShouldBe(["p2", "p1"]);
        (await Should.ThrowAsync<TrackingException>(() => Store.SearchAsync(search with { PageToken = "garbage" }, Cancel))).Message
            .ShouldBe("Invalid page token 'garbage': it was not issued by this server.");
    }

    [Theory]
    [InlineData("params.x = 'a'", "experiments can be searched by attributes and tags only")]
    [InlineData("artifact_location = 'a'", "Invalid attribute key 'artifact_location'")]
    [InlineData("name > 'a'", "Invalid comparator '>'")]
    [InlineData("creation_time = 'a'", "expected a number")]
    [InlineData("name = ", "needs a value")]
    public async Task Bad_filters_are_refused_with_the_reason(string filter, string reason)
    {
        var error = await Should.ThrowAsync<TrackingException>(() => Store.SearchAsync(new ExperimentSearch(filter), Cancel));
        error.Code.ShouldBe("INVALID_PARAMETER_VALUE");
        error.Message.ShouldContain(reason);
    }

    [Theory]
    [InlineData(0, null, "max_results")]
    [InlineData(50001, null, "max_results")]
    [InlineData(10, "not-a-token", "Invalid page token")]
    // Valid base64 of JSON that is not {"offset": <non-negative integer>}: {"offset": "x"}, [1], {"offset": 1.5}, "x",
    // an offset beyond Int64, null. MLflow's SearchUtils.parse_start_offset_from_page_token refuses these with
    // INVALID_PARAMETER_VALUE ("Invalid page token, ..."); they were a 500 here.
    [InlineData(10, "eyJvZmZzZXQiOiAieCJ9", "Invalid page token")]
    [InlineData(10, "WzFd", "Invalid page token")]
    [InlineData(10, "eyJvZmZzZXQiOiAxLjV9", "Invalid page token")]
    [InlineData(10, "Ingi", "Invalid page token")]
    [InlineData(10, "eyJvZmZzZXQiOiA5OTk5OTk5OTk5OTk5OTk5OTk5OX0=", "Invalid page token")]
    [InlineData(10, "bnVsbA==", "Invalid page token")]
    public async Task Bad_paging_is_refused(int maxResults, string? token, string reason)
    {
        var error = await Should.ThrowAsync<TrackingException>(() => Store.SearchAsync(new ExperimentSearch(MaxResults: maxResults, PageToken: token), Cancel));
        error.Code.ShouldBe("INVALID_PARAMETER_VALUE");
        error.Message.ShouldContain(reason);
    }

    private async Task<IReadOnlyList<string>> NamesAsync(string filter) =>
        (await Store.SearchAsync(new ExperimentSearch(filter, OrderBy: ["creation_time ASC"]), Cancel)).Experiments.Select(e => e.Name).ToList();
}

public sealed class SqliteExperimentStoreTests() : ExperimentStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresExperimentStoreTests() : ExperimentStoreContractTests(DatabaseEngine.Postgres);

internal static class AsyncShould
{
    public static async Task ShouldBeAsync(this Task<IReadOnlyList<string>> actual, string[] expected, string? because = null) =>
        (await actual).ShouldBe(expected, because);
}
