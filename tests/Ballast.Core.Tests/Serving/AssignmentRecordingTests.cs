using Ballast.Serving;

namespace Ballast.Tests.Serving;

/// <summary>
/// Serving records which variant made each prediction only where it is read: a bandit's arms, and a rollout's feedback
/// conditions while the endpoint has the rollout's canary, preview or previous variant. A static split records nothing
/// (A/B experiments read the prediction log).
/// </summary>
public sealed class AssignmentRecordingTests
{
    [Theory]
    [InlineData(null, new[] { "a", "b" }, false)]
    [InlineData(null, new[] { "main" }, false)]
    [InlineData(null, new[] { "main", "canary" }, true)]
    [InlineData(null, new[] { "main", "preview" }, true)]
    [InlineData(null, new[] { "main", "previous" }, true)]
    [InlineData(EndpointValidation.BanditPolicy, new[] { "a", "b" }, true)]
    public void Assignments_are_recorded_only_where_a_bandit_or_a_rollout_reads_them(string? policy, string[] names, bool records)
    {
        var spec = new EndpointSpec("iris", policy, [.. names.Select(name => new VariantSpec(name, "models:/iris/1", 100 / names.Length))]);
        var variants = names.Select((name, i) => new RoutedVariant(name, "models:/iris/1", null!, 100 / names.Length, i * 100 / names.Length, (i + 1) * 100 / names.Length)).ToList();

        new RoutedEndpoint(new StoredEndpoint(spec, 1, 0, 0), variants, []).RecordsAssignments.ShouldBe(records);
    }
}
