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
    public void Policies_not_built_yet_and_remote_variants_are_refused_plainly()
    {
        var message = Should.Throw<TrackingException>(() => EndpointValidation.Validate(
            new EndpointSpec("e", "ensemble", [new VariantSpec("a", "models:/m/1", 100, Url: "http://x/v2/models/m")]))).Message;
        message.ShouldContain("policy 'ensemble' is not available yet");
        message.ShouldContain("remote variants (url) are not available yet");
    }

    /// <summary>FNV-1a 64 mod 100, computed independently in Python; these must never change, or sticky users would move.</summary>
    [Theory]
    [InlineData("user-1", 8)]
    [InlineData("user-2", 41)]
    [InlineData("user-42", 19)]
    [InlineData("", 37)]
    public void Sticky_buckets_are_stable(string key, int bucket) => RoutedEndpoint.Bucket(key).ShouldBe(bucket);
}
