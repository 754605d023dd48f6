using Ballast.Metadata;
using Ballast.Monitoring.Quality;
using Ballast.Serving;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Serving;

public abstract class EndpointStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private EndpointStore Endpoints => new(Database, Time);

    [Fact]
    public async Task Endpoints_are_created_replaced_idempotently_listed_and_deleted()
    {
        var spec = new EndpointSpec("iris", null, [new VariantSpec("a", "models:/iris/1")]);
        (await Endpoints.CreateAsync(spec, Cancel)).Revision.ShouldBe(1);
        (await Should.ThrowAsync<TrackingException>(() => Endpoints.CreateAsync(spec, Cancel))).Code.ShouldBe(TrackingException.ResourceAlreadyExists);

        var (same, changed) = await Endpoints.PutAsync(spec, Cancel);
        (same.Revision, changed).ShouldBe((1L, false), "the same spec again changes nothing");
        var (moved, movedChanged) = await Endpoints.PutAsync(spec with { Variants = [new VariantSpec("a", "models:/iris/1", 50), new VariantSpec("b", "models:/iris/2", 50)] }, Cancel);
        (moved.Revision, movedChanged).ShouldBe((2L, true));
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants!.Select(v => (v.Name, v.Weight)).ShouldBe([("a", (int?)50), ("b", 50)]);

        await Endpoints.PutAsync(new EndpointSpec("alpha", null, [new VariantSpec("a", "models:/x@champion")]), Cancel);
        (await Endpoints.ListAsync(Cancel)).Select(e => e.Spec.Name).ShouldBe(["alpha", "iris"]);
        await Endpoints.DeleteAsync("iris", Cancel);
        (await Should.ThrowAsync<TrackingException>(() => Endpoints.GetAsync("iris", Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
        (await Should.ThrowAsync<TrackingException>(() => Endpoints.DeleteAsync("iris", Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
    }

    [Fact]
    public async Task Expectations_are_stored_with_the_endpoint_and_the_same_suite_again_changes_nothing()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": {"type": "integer", "min": 0, "max": 120}, "state": {"allowed": ["CA", 1]}, "email": {"regex": "^[^@]+@[^@]+$"}}}""");
        var spec = new EndpointSpec("titanic", null, [new VariantSpec("a", "models:/titanic/1")], Expectations: new ExpectationsSpec(suite));

        (await Endpoints.CreateAsync(spec, Cancel)).Revision.ShouldBe(1);

        var stored = (await Endpoints.GetAsync("titanic", Cancel)).Spec.Expectations!;
        stored.Mode.ShouldBe(ExpectationsSpec.Reject);
        ExpectationSuiteReader.ToJson(stored.Suite!).ShouldBe(ExpectationSuiteReader.ToJson(suite));
        // The stored suite keeps how each allowed value was written: "CA" text, 1 a number.
        ExpectationSuiteReader.ToJson(stored.Suite!, indented: false).ShouldContain("\"allowed\":[\"CA\",1]");
        (await Endpoints.PutAsync(spec with { Expectations = new ExpectationsSpec(ExpectationSuiteReader.Parse(ExpectationSuiteReader.ToJson(suite)), "reject") }, Cancel))
            .Changed.ShouldBeFalse("the same suite, written again with the default mode, is no change");
        var (flagged, changed) = await Endpoints.PutAsync(spec with { Expectations = new ExpectationsSpec(suite, ExpectationsSpec.Flag) }, Cancel);
        (flagged.Revision, changed).ShouldBe((2L, true));
        (await Endpoints.GetAsync("titanic", Cancel)).Spec.Expectations!.Mode.ShouldBe(ExpectationsSpec.Flag);
    }
}

public sealed class SqliteEndpointStoreTests() : EndpointStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresEndpointStoreTests() : EndpointStoreContractTests(DatabaseEngine.Postgres);
