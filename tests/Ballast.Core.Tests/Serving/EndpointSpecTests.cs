using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Tests.Serving;

public sealed class EndpointSpecTests
{
    [Fact]
    public void A_single_variant_gets_weight_100_and_the_split_policy()
    {
        var spec = EndpointValidation.Validate(new EndpointSpec("iris", null, [new VariantSpec("a", "models:/iris@champion")], Sticky: new StickySpec(null)));

        spec.Policy.ShouldBe("split");
        spec.Variants!.Single().Weight.ShouldBe(100);
        spec.Sticky!.Header.ShouldBe("Ballast-Routing-Key");
    }

    [Theory]
    [InlineData("models:/iris/3", "iris", 3L, null)]
    [InlineData("models:/churn-v2@champion", "churn-v2", null, "champion")]
    public void Model_references_name_a_version_or_an_alias(string text, string name, long? version, string? alias) =>
        ModelReference.Parse(text, "x").ShouldBe(new ModelReference(name, version, alias));

    [Theory]
    [InlineData("models:/iris")]
    [InlineData("models:/iris/0")]
    [InlineData("runs:/abc/model")]
    public void Other_references_are_refused(string text) =>
        Should.Throw<TrackingException>(() => ModelReference.Parse(text, "variant 'a'")).Message.ShouldBe($"variant 'a': model '{text}' is not models:/NAME/VERSION or models:/NAME@ALIAS.");

    [Fact]
    public void Unknown_policies_are_refused_with_the_known_ones() =>
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(new EndpointSpec("e", "canary", [new VariantSpec("a", "models:/m/1")])))
            .Message.ShouldBe("Invalid endpoint 'e': policy 'canary' is not one of split (weights, sticky keys, shadows, fallback), bandit (epsilon_greedy, thompson, ucb1), regime (rules and signals) or ensemble (mean, vote).");

    [Fact]
    public void Remote_variants_need_a_v2_model_address_and_sane_call_settings()
    {
        EndpointValidation.Validate(new EndpointSpec("e", null, [new VariantSpec("r", null, Url: "http://kserve:8080/v2/models/iris", TimeoutMs: 250, Retries: 2)]))
            .Variants!.Single().ShouldBe(new VariantSpec("r", null, 100, "http://kserve:8080/v2/models/iris", 250, 2));

        var message = Should.Throw<TrackingException>(() => EndpointValidation.Validate(new EndpointSpec("e", null,
        [
            new VariantSpec("a", "models:/m/1", 50, Url: "ftp://x/v2/models/m"),
            new VariantSpec("b", null, 25, Url: "http://x/v2/models/m/infer", TimeoutMs: 0, Retries: 9),
            new VariantSpec("c", "models:/m/1", 25, TimeoutMs: 100),
        ]))).Message;
        message.ShouldBe("Invalid endpoint 'e': variant 'a': give a model or a url, not both; " +
            "variant 'a': url 'ftp://x/v2/models/m' must be an http(s) V2 model address such as http://host:8080/v2/models/NAME (without /infer or a query); " +
            "variant 'b': url 'http://x/v2/models/m/infer' must be an http(s) V2 model address such as http://host:8080/v2/models/NAME (without /infer or a query); " +
            "variant 'b': timeout_ms 0 must be between 1 and 60000; variant 'b': retries 9 must be between 0 and 5; " +
            "variant 'c': timeout_ms and retries are for remote (url) variants.");
    }

    /// <summary>FNV-1a 64 mod 100, computed independently in Python; these must never change, or sticky users would move.</summary>
    [Theory]
    [InlineData("user-1", 8)]
    [InlineData("user-2", 41)]
    [InlineData("user-42", 19)]
    [InlineData("", 37)]
    public void Sticky_buckets_are_stable(string key, int bucket) => RoutedEndpoint.Bucket(key).ShouldBe(bucket);
}
