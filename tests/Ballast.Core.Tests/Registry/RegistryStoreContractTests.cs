using Ballast.Metadata;
using Ballast.Registry;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Registry;

/// <summary>MLflow model registry semantics (mlflow/store/model_registry/sqlalchemy_store.py behaviour) on SQLite and PostgreSQL.</summary>
public abstract class RegistryStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private RegistryStore Registry => new(Database, Time);

    /// <summary>A run in the default experiment, for versions whose runs:/ source must name a run that exists.</summary>
    private async Task<string> NewRunAsync() => (await new RunStore(Database, new ExperimentStore(Database, Time), Time).CreateAsync("0", cancellationToken: Cancel)).Info.RunId;

    [Fact]
    public async Task Versions_are_numbered_from_one_and_carry_their_source_run_and_tags()
    {
        await Registry.CreateModelAsync("churn", "predicts churn", [new TrackingTag("team", "growth")], Cancel);
        var (abc, def) = (await NewRunAsync(), await NewRunAsync());
        var v1 = await Registry.CreateVersionAsync("churn", $"runs:/{abc}/model", abc, [new TrackingTag("framework", "onnx")], cancellationToken: Cancel);
        var v2 = await Registry.CreateVersionAsync("churn", $"runs:/{def}/model", def, cancellationToken: Cancel);

        v1.Version.ShouldBe("1");
        v2.Version.ShouldBe("2");
        v1.Source.ShouldBe($"runs:/{abc}/model");
        v1.RunId.ShouldBe(abc);
        v1.CurrentStage.ShouldBe("None");
        v1.Status.ShouldBe("READY");
        v1.Tags.ShouldBe([new TrackingTag("framework", "onnx")]);

        var model = await Registry.GetModelAsync("churn", Cancel);
        model.Description.ShouldBe("predicts churn");
        model.Tags.ShouldBe([new TrackingTag("team", "growth")]);
        model.LatestVersions.Select(version => version.Version).ShouldBe(["2"], "the latest version in stage None");
    }

    // MLflow resolves a runs:/ source through its run (RunsArtifactRepository, the tracking store's get_run): a run that
    // does not exist is its 404, "Run with id=... not found", at registration rather than when the version is served.
    [Fact]
    public async Task A_runs_source_whose_run_does_not_exist_is_refused_naming_the_run()
    {
        await Registry.CreateModelAsync("m", cancellationToken: Cancel);

        var refused = await Should.ThrowAsync<TrackingException>(() => Registry.CreateVersionAsync("m", "runs:/0123456789abcdef0123456789abcdef/model", cancellationToken: Cancel));

        refused.Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
        refused.Message.ShouldBe("Run with id=0123456789abcdef0123456789abcdef not found (the model version source 'runs:/0123456789abcdef0123456789abcdef/model' names it).");
        (await Registry.SearchVersionsAsync(new RegistrySearch("name='m'"), Cancel)).Versions.ShouldBeEmpty("nothing is registered");
        // An empty authority is still this server's run (RunsArtifactRepository.parse_runs_uri): checked the same.
        (await Should.ThrowAsync<TrackingException>(() => Registry.CreateVersionAsync("m", "runs:///0123456789abcdef0123456789abcdef/model/", cancellationToken: Cancel)))
            .Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
        var run = await NewRunAsync();
        (await Registry.CreateVersionAsync("m", $"runs:/{run}/model", cancellationToken: Cancel)).Version.ShouldBe("1");
        (await Registry.CreateVersionAsync("m", "s3://bucket/no-run/model", cancellationToken: Cancel)).Version.ShouldBe("2", "other sources are kept as they are");
    }

    // mlflow/server/handlers.py _validate_source and _validate_non_local_source_contains_relative_paths.
    [Theory]
    [InlineData("/etc/passwd", "To use a local path as a model version source, the run_id request parameter has to be specified")]
    [InlineData("file:///etc/passwd", "To use a local path as a model version source")]
    [InlineData("mlflow-artifacts:/../../etc", "an absolute path must be provided without relative path references present")]
    [InlineData("s3://bucket/models/%2E%2E/secrets", "an absolute path must be provided without relative path references present")]
    public async Task Sources_on_the_servers_disk_or_climbing_out_of_their_folder_are_refused(string source, string message)
    {
        await Registry.CreateModelAsync("m", cancellationToken: Cancel);

        var refused = await Should.ThrowAsync<TrackingException>(() => Registry.CreateVersionAsync("m", source, "0123456789abcdef0123456789abcdef", cancellationToken: Cancel));

        refused.Code.ShouldBe("INVALID_PARAMETER_VALUE");
        refused.Message.ShouldStartWith($"Invalid model version source: '{source}'.");
        refused.Message.ShouldContain(message);
        (await Registry.CreateVersionAsync("m", "mlflow-artifacts:/models/m/model..onnx", cancellationToken: Cancel)).Version.ShouldBe("1", "two dots inside a name are not a relative reference");
    }

    [Fact]
    public async Task Names_are_unique_and_unknown_models_and_versions_are_reported()
    {
        await Registry.CreateModelAsync("m", cancellationToken: Cancel);
        (await Should.ThrowAsync<TrackingException>(() => Registry.CreateModelAsync("m", cancellationToken: Cancel))).Message.ShouldBe("Registered Model (name=m) already exists.");
        (await Should.ThrowAsync<TrackingException>(() => Registry.GetModelAsync("nope", Cancel))).Message.ShouldBe("Registered Model with name=nope not found");
        (await Should.ThrowAsync<TrackingException>(() => Registry.GetVersionAsync("m", "3", Cancel))).Message.ShouldBe("Model Version (name=m, version=3) not found");
        (await Should.ThrowAsync<TrackingException>(() => Registry.GetVersionAsync("m", "x", Cancel))).Code.ShouldBe("INVALID_PARAMETER_VALUE");
        (await Should.ThrowAsync<TrackingException>(() => Registry.CreateVersionAsync("nope", "s3://x", cancellationToken: Cancel))).Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task Promoting_with_archive_existing_archives_the_previous_production_version()
    {
        await Registry.CreateModelAsync("fraud", cancellationToken: Cancel);
        for (var i = 0; i < 3; i++)
        {
            await Registry.CreateVersionAsync("fraud", $"runs:/{await NewRunAsync()}/model", cancellationToken: Cancel);
        }

        await Registry.TransitionStageAsync("fraud", "1", "production", archiveExisting: false, Cancel);
        await Registry.TransitionStageAsync("fraud", "2", "Staging", archiveExisting: false, Cancel);
        var promoted = await Registry.TransitionStageAsync("fraud", "2", "Production", archiveExisting: true, Cancel);

        promoted.CurrentStage.ShouldBe("Production");
        (await Registry.GetVersionAsync("fraud", "1", Cancel)).CurrentStage.ShouldBe("Archived");
        (await Registry.GetLatestVersionsAsync("fraud", ["Production"], Cancel)).Single().Version.ShouldBe("2");
        (await Registry.GetLatestVersionsAsync("fraud", cancellationToken: Cancel)).Select(v => (v.Version, v.CurrentStage)).ShouldBe([("1", "Archived"), ("2", "Production"), ("3", "None")]);
        (await Should.ThrowAsync<TrackingException>(() => Registry.TransitionStageAsync("fraud", "3", "Live", false, Cancel))).Message.ShouldContain("Invalid Model Version stage: Live");
    }

    [Fact]
    public async Task Aliases_point_at_versions_and_move_when_set_again()
    {
        await Registry.CreateModelAsync("rec", cancellationToken: Cancel);
        await Registry.CreateVersionAsync("rec", "s3://a", cancellationToken: Cancel);
        await Registry.CreateVersionAsync("rec", "s3://b", cancellationToken: Cancel);

        await Registry.SetAliasAsync("rec", "champion", "1", Cancel);
        (await Registry.GetVersionByAliasAsync("rec", "champion", Cancel)).Version.ShouldBe("1");
        await Registry.SetAliasAsync("rec", "champion", "2", Cancel);
        (await Registry.GetVersionByAliasAsync("rec", "champion", Cancel)).Aliases.ShouldBe(["champion"]);
        (await Registry.GetModelAsync("rec", Cancel)).Aliases.ShouldBe([new ModelAlias("champion", "2")]);

        await Registry.DeleteAliasAsync("rec", "champion", Cancel);
        (await Should.ThrowAsync<TrackingException>(() => Registry.GetVersionByAliasAsync("rec", "champion", Cancel))).Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
        (await Should.ThrowAsync<TrackingException>(() => Registry.SetAliasAsync("rec", "latest", "1", Cancel))).Message.ShouldContain("reserved");
        (await Should.ThrowAsync<TrackingException>(() => Registry.SetAliasAsync("rec", "v3", "1", Cancel))).Message.ShouldContain("reserved");
        (await Should.ThrowAsync<TrackingException>(() => Registry.SetAliasAsync("rec", "ok", "9", Cancel))).Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task Renaming_a_model_carries_its_versions_tags_and_aliases()
    {
        await Registry.CreateModelAsync("old", tags: [new TrackingTag("k", "v")], cancellationToken: Cancel);
        await Registry.CreateVersionAsync("old", "s3://a", tags: [new TrackingTag("vk", "vv")], cancellationToken: Cancel);
        await Registry.SetAliasAsync("old", "champion", "1", Cancel);

        var renamed = await Registry.RenameModelAsync("old", "new", Cancel);

        renamed.Name.ShouldBe("new");
        renamed.Tags.ShouldBe([new TrackingTag("k", "v")]);
        var version = await Registry.GetVersionByAliasAsync("new", "champion", Cancel);
        version.Tags.ShouldBe([new TrackingTag("vk", "vv")]);
        (await Should.ThrowAsync<TrackingException>(() => Registry.GetModelAsync("old", Cancel))).Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task Deleting_a_version_removes_its_aliases_and_deleting_a_model_removes_everything()
    {
        await Registry.CreateModelAsync("gone", cancellationToken: Cancel);
        await Registry.CreateVersionAsync("gone", "s3://a", tags: [new TrackingTag("a", "b")], cancellationToken: Cancel);
        await Registry.CreateVersionAsync("gone", "s3://b", cancellationToken: Cancel);
        await Registry.SetAliasAsync("gone", "champion", "1", Cancel);

        await Registry.DeleteVersionAsync("gone", "1", Cancel);
        (await Registry.GetModelAsync("gone", Cancel)).Aliases.ShouldBeEmpty();
        (await Registry.CreateVersionAsync("gone", "s3://c", cancellationToken: Cancel)).Version.ShouldBe("3", "numbers are not reused while a later version exists");

        await Registry.DeleteModelAsync("gone", Cancel);
        (await Registry.SearchVersionsAsync(new RegistrySearch("name = 'gone'"), Cancel)).Versions.ShouldBeEmpty();
        await Registry.CreateModelAsync("gone", cancellationToken: Cancel);
        (await Registry.CreateVersionAsync("gone", "s3://d", cancellationToken: Cancel)).Version.ShouldBe("1");
        (await Registry.GetVersionAsync("gone", "1", Cancel)).Tags.ShouldBeEmpty("the old version's tags went with it");
    }

    [Fact]
    public async Task Models_and_versions_are_searched_by_name_run_and_tags()
    {
        await Registry.CreateModelAsync("churn-a", tags: [new TrackingTag("team", "growth")], cancellationToken: Cancel);
        await Registry.CreateModelAsync("churn-b", cancellationToken: Cancel);
        await Registry.CreateModelAsync("fraud", tags: [new TrackingTag("team", "risk")], cancellationToken: Cancel);
        await Registry.CreateVersionAsync("churn-a", "s3://1", "run1", cancellationToken: Cancel);
        await Registry.CreateVersionAsync("churn-a", "s3://2", "run2", [new TrackingTag("validated", "true")], cancellationToken: Cancel);

        (await Registry.SearchModelsAsync(new RegistrySearch("name LIKE 'churn%'"), Cancel)).Models.Select(m => m.Name).ShouldBe(["churn-a", "churn-b"]);
        (await Registry.SearchModelsAsync(new RegistrySearch("tags.team = 'risk'"), Cancel)).Models.Select(m => m.Name).ShouldBe(["fraud"]);
        (await Registry.SearchModelsAsync(new RegistrySearch(OrderBy: ["name DESC"], MaxResults: 2), Cancel)).Models.Select(m => m.Name).ShouldBe(["fraud", "churn-b"]);
        (await Registry.SearchVersionsAsync(new RegistrySearch("name = 'churn-a'"), Cancel)).Versions.Select(v => v.Version).ShouldBe(["2", "1"]);
        (await Registry.SearchVersionsAsync(new RegistrySearch("run_id = 'run1'"), Cancel)).Versions.Single().Version.ShouldBe("1");
        (await Registry.SearchVersionsAsync(new RegistrySearch("tags.validated = 'true'"), Cancel)).Versions.Single().Version.ShouldBe("2");
        (await Should.ThrowAsync<TrackingException>(() => Registry.SearchModelsAsync(new RegistrySearch("metrics.x > 1"), Cancel))).Code.ShouldBe("INVALID_PARAMETER_VALUE");
        (await Should.ThrowAsync<TrackingException>(() => Registry.SearchModelsAsync(new RegistrySearch(MaxResults: 1001), Cancel))).Message.ShouldContain("at most 1000");
    }

    [Fact]
    public async Task Registry_page_tokens_page_through_their_own_search_only()
    {
        foreach (var name in new[] { "m1", "m2", "m3", "m4", "m5", "x" })
        {
            await Registry.CreateModelAsync(name, cancellationToken: Cancel);
        }

        for (var i = 0; i < 5; i++)
        {
            await Registry.CreateVersionAsync("m1", $"s3://m1/{i}", cancellationToken: Cancel);
        }

        var models = new RegistrySearch("name LIKE 'm%'", ["name DESC"], 2);
        (await AllAsync(models, async search => { var page = await Registry.SearchModelsAsync(search, Cancel); return (page.Models.Select(m => m.Name), page.NextPageToken); }))
            .ShouldBe(["m5", "m4", "m3", "m2", "m1"]);
        var versions = new RegistrySearch("name = 'm1'", ["version_number ASC"], 2);
        (await AllAsync(versions, async search => { var page = await Registry.SearchVersionsAsync(search, Cancel); return (page.Versions.Select(v => v.Version), page.NextPageToken); }))
            .ShouldBe(["1", "2", "3", "4", "5"]);

        var modelToken = (await Registry.SearchModelsAsync(models, Cancel)).NextPageToken;
        var versionToken = (await Registry.SearchVersionsAsync(versions, Cancel)).NextPageToken;
        (await Should.ThrowAsync<TrackingException>(() => Registry.SearchModelsAsync(models with { Filter = "name LIKE 'x%'", PageToken = modelToken }, Cancel))).Message
            .ShouldBe("Filter string in the page token does not match the requested filter string. Expected: \"name LIKE 'x%'\". Found: \"name LIKE 'm%'\"");
        (await Should.ThrowAsync<TrackingException>(() => Registry.SearchVersionsAsync(versions with { OrderBy = ["version_number DESC"], PageToken = versionToken }, Cancel))).Message
            .ShouldBe("Order by in the page token does not match the requested order by. Expected: [\"version_number DESC\"]. Found: [\"version_number ASC\"]");
        var anyModelToken = (await Registry.SearchModelsAsync(new RegistrySearch(MaxResults: 1), Cancel)).NextPageToken;
        var crossed = await Should.ThrowAsync<TrackingException>(() => Registry.SearchVersionsAsync(new RegistrySearch(PageToken: anyModelToken), Cancel));
        crossed.Code.ShouldBe("INVALID_PARAMETER_VALUE");
        crossed.Message.ShouldBe("Search in the page token does not match the requested search. Expected: \"model_versions\". Found: \"registered_models\"");

        // The previous release's token, base64 of {"offset": 3}: read as its offset, for a client paging across the upgrade.
        (await Registry.SearchModelsAsync(models with { PageToken = "eyJvZmZzZXQiOiAzfQ==" }, Cancel)).Models.Select(m => m.Name).ShouldBe(["m2", "m1"]);
        (await Registry.SearchVersionsAsync(versions with { PageToken = "eyJvZmZzZXQiOiAzfQ==" }, Cancel)).Versions.Select(v => v.Version).ShouldBe(["4", "5"]);
        (await Should.ThrowAsync<TrackingException>(() => Registry.SearchModelsAsync(models with { PageToken = "garbage" }, Cancel))).Message.ShouldBe("Invalid page token 'garbage': it was not issued by this server.");
        (await Should.ThrowAsync<TrackingException>(() => Registry.SearchVersionsAsync(versions with { PageToken = "garbage" }, Cancel))).Code.ShouldBe("INVALID_PARAMETER_VALUE");
    }

    [Fact]
    public async Task Audit_page_tokens_page_through_their_own_query_only()
    {
        var ci = Registry.WithActor("ci");
        foreach (var name in new[] { "a1", "a2", "a3", "a4", "a5" })
        {
            await ci.CreateModelAsync(name, cancellationToken: Cancel);
        }

        await Registry.WithActor("ana").CreateModelAsync("b1", cancellationToken: Cancel);
        var audit = new Ballast.Audit.AuditLog(Database);
        var query = new Ballast.Audit.AuditQuery(ResourceType: "registered_model", Actor: "ci", MaxResults: 2);
        (await AllAsync(query, async q => { var page = await audit.ListAsync(q, Cancel); return (page.Events.Select(e => e.Resource), page.NextPageToken); },
                (q, token) => q with { PageToken = token }))
            .ShouldBe(["a5", "a4", "a3", "a2", "a1"]);

        var token = (await audit.ListAsync(query, Cancel)).NextPageToken;
        var other = await Should.ThrowAsync<TrackingException>(() => audit.ListAsync(query with { Actor = "ana", PageToken = token }, Cancel));
        other.Code.ShouldBe("INVALID_PARAMETER_VALUE");
        other.Message.ShouldBe("Actor in the page token does not match the requested actor. Expected: \"ana\". Found: \"ci\"");
        (await Should.ThrowAsync<TrackingException>(() => audit.ListAsync(query with { ResourceType = null, PageToken = token }, Cancel))).Message
            .ShouldStartWith("Resource type in the page token does not match the requested resource type.");
        // The previous release's token, base64 of {"offset": 3}.
        (await audit.ListAsync(query with { PageToken = "eyJvZmZzZXQiOiAzfQ==" }, Cancel)).Events.Select(e => e.Resource).ShouldBe(["a2", "a1"]);
        (await Should.ThrowAsync<TrackingException>(() => audit.ListAsync(query with { PageToken = "garbage" }, Cancel))).Message.ShouldBe("Invalid page token 'garbage': it was not issued by this server.");
    }

    [Fact]
    public async Task Audit_paging_lists_every_event_exactly_once_while_events_are_recorded_between_pages()
    {
        var ci = Registry.WithActor("ci");
        foreach (var name in new[] { "p1", "p2", "p3", "p4", "p5", "p6", "p7" })
        {
            await ci.CreateModelAsync(name, cancellationToken: Cancel);
        }

        var audit = new Ballast.Audit.AuditLog(Database);
        var query = new Ballast.Audit.AuditQuery(Actor: "ci", MaxResults: 2);
        var seen = new List<string>();
        string? token = null;
        var recorded = 0;
        do
        {
            var page = await audit.ListAsync(query with { PageToken = token }, Cancel);
            seen.AddRange(page.Events.Select(e => e.Resource));
            token = page.NextPageToken;
            // Newer events land between two page reads: with OFFSET paging each pushed the page's last event onto the next.
            await ci.CreateModelAsync($"late{++recorded}", cancellationToken: Cancel);
        }
        while (token is not null);

        seen.ShouldBe(["p7", "p6", "p5", "p4", "p3", "p2", "p1"]);
        // The events recorded meanwhile are newer than the first page: a new listing finds them first.
        (await audit.ListAsync(query with { MaxResults = 5 }, Cancel)).Events.Select(e => e.Resource).ShouldBe(["late4", "late3", "late2", "late1", "p7"]);

        // A tied token issued before the audit trail paged by key (search, query and offset, no last key) is read as its
        // offset, counted from the newest: late4, late3, late2, late1, p7 skipped.
        var offsetToken = PageToken.Create(5, new PageTokenQuery("audit_events").WithText("resource_type", null).WithText("resource", null).WithText("actor", "ci"));
        (await audit.ListAsync(query with { PageToken = offsetToken }, Cancel)).Events.Select(e => e.Resource).ShouldBe(["p6", "p5"]);
        // A key that is not a whole number was not issued here.
        var keyed = System.Text.Json.Nodes.JsonNode.Parse(Convert.FromBase64String((await audit.ListAsync(query, Cancel)).NextPageToken!))!.AsObject();
        keyed["last_key"] = "7";
        var forged = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(keyed.ToJsonString()));
        (await Should.ThrowAsync<TrackingException>(() => audit.ListAsync(query with { PageToken = forged }, Cancel))).Message
            .ShouldBe($"Invalid page token '{forged}': it was not issued by this server.");
    }

    private static Task<List<string>> AllAsync(RegistrySearch search, Func<RegistrySearch, Task<(IEnumerable<string> Items, string? Next)>> read) =>
        AllAsync(search, read, (s, token) => s with { PageToken = token });

    private static async Task<List<string>> AllAsync<TQuery>(TQuery query, Func<TQuery, Task<(IEnumerable<string> Items, string? Next)>> read, Func<TQuery, string?, TQuery> at)
    {
        var items = new List<string>();
        string? token = null;
        do
        {
            var (page, next) = await read(at(query, token));
            items.AddRange(page);
            token = next;
        }
        while (token is not null);

        return items;
    }

    [Fact]
    public async Task Every_change_is_audited_with_who_and_what()
    {
        var ci = Registry.WithActor("ci");
        await ci.CreateModelAsync("audited", cancellationToken: Cancel);
        await ci.CreateVersionAsync("audited", "s3://a", cancellationToken: Cancel);
        await ci.CreateVersionAsync("audited", "s3://b", cancellationToken: Cancel);
        await ci.TransitionStageAsync("audited", "1", "Production", false, Cancel);
        var ana = Registry.WithActor("ana");
        await ana.SetAliasAsync("audited", "champion", "1", Cancel);
        await ana.SetAliasAsync("audited", "champion", "2", Cancel);
        await ana.TransitionStageAsync("audited", "2", "Production", true, Cancel);
        await ana.DeleteVersionAsync("audited", "1", Cancel);

        var audit = new Ballast.Audit.AuditLog(Database);
        var events = (await audit.ListAsync(new Ballast.Audit.AuditQuery(), Cancel)).Events;
        events.Select(e => (e.Actor, e.Action, e.Resource, e.Details)).ShouldBe([
            ("ana", "delete", "audited/1", null),
            ("ana", "transition_stage", "audited/2", "None -> Production (archived 1 other version(s))"),
            ("ana", "set_alias", "audited", "champion: 1 -> 2"),
            ("ana", "set_alias", "audited", "champion: - -> 1"),
            ("ci", "transition_stage", "audited/1", "None -> Production"),
            ("ci", "create", "audited/2", "s3://b"),
            ("ci", "create", "audited/1", "s3://a"),
            ("ci", "create", "audited", null),
        ]);
        events[0].OccurredAt.ShouldBe(Time.GetUtcNow());
        (await audit.ListAsync(new Ballast.Audit.AuditQuery(ResourceType: "model_version", Resource: "audited/2"), Cancel)).Events.Count.ShouldBe(2);
        (await audit.ListAsync(new Ballast.Audit.AuditQuery(Actor: "ci", MaxResults: 2), Cancel)).NextPageToken.ShouldNotBeNull();
    }

    [Fact]
    public async Task A_refused_change_leaves_no_audit_record()
    {
        await Registry.CreateModelAsync("x", cancellationToken: Cancel);
        await Should.ThrowAsync<TrackingException>(() => Registry.SetAliasAsync("x", "champion", "7", Cancel));
        (await new Ballast.Audit.AuditLog(Database).ListAsync(new Ballast.Audit.AuditQuery(), Cancel)).Events.Select(e => e.Action).ShouldBe(["create"]);
    }

    [Fact]
    public async Task Concurrent_registrations_get_distinct_version_numbers()
    {
        await Registry.CreateModelAsync("busy", cancellationToken: Cancel);
        var creates = Enumerable.Range(0, 8).Select(async i =>
        {
            await using var replica = new MetadataDatabase(Location);
            return (await new RegistryStore(replica, Time).CreateVersionAsync("busy", $"s3://{i}", cancellationToken: Cancel)).Version;
        });

        (await Task.WhenAll(creates)).Order().ToList().ShouldBe(["1", "2", "3", "4", "5", "6", "7", "8"], "8 writers, no duplicate and no gap");
    }

    [Fact]
    public async Task A_page_of_models_and_versions_carries_each_ones_own_tags_aliases_and_latest_versions()
    {
        foreach (var name in new[] { "a", "b", "c" })
        {
            await Registry.CreateModelAsync(name, tags: name == "c" ? [] : [new TrackingTag("owner", name + "-team")], cancellationToken: Cancel);
        }

        for (var i = 1; i <= 3; i++)
        {
            await Registry.CreateVersionAsync("a", $"s3://a/{i}", tags: [new TrackingTag("i", $"a{i}")], cancellationToken: Cancel);
            await Registry.CreateVersionAsync("b", $"s3://b/{i}", tags: [new TrackingTag("i", $"b{i}")], cancellationToken: Cancel);
        }

        await Registry.TransitionStageAsync("a", "1", "Production", archiveExisting: false, Cancel);
        await Registry.SetAliasAsync("a", "champion", "1", Cancel);
        await Registry.SetAliasAsync("b", "champion", "3", Cancel);
        await Registry.SetAliasAsync("b", "challenger", "2", Cancel);

        var models = (await Registry.SearchModelsAsync(new RegistrySearch(), Cancel)).Models.ToDictionary(model => model.Name);
        models["a"].Tags.ShouldBe([new TrackingTag("owner", "a-team")]);
        models["c"].Tags.ShouldBeEmpty();
        models["a"].LatestVersions.Select(v => (v.Version, v.CurrentStage)).ShouldBe([("1", "Production"), ("3", "None")]);
        models["a"].LatestVersions[0].Aliases.ShouldBe(["champion"]);
        models["b"].LatestVersions.Select(v => v.Version).ShouldBe(["3"]);
        models["b"].Aliases.Select(alias => (alias.Alias, alias.Version)).ShouldBe([("challenger", "2"), ("champion", "3")]);
        models["c"].LatestVersions.ShouldBeEmpty();

        var versions = (await Registry.SearchVersionsAsync(new RegistrySearch(MaxResults: 100), Cancel)).Versions;
        versions.Count.ShouldBe(6);
        versions.ShouldAllBe(v => v.Tags.Single().Value == v.Name + v.Version);
        versions.Single(v => v.Name == "b" && v.Version == "2").Aliases.ShouldBe(["challenger"]);
        versions.Single(v => v.Name == "a" && v.Version == "2").Aliases.ShouldBeEmpty();
    }
}

public sealed class SqliteRegistryStoreTests() : RegistryStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresRegistryStoreTests() : RegistryStoreContractTests(DatabaseEngine.Postgres);
