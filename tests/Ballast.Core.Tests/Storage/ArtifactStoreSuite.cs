namespace Ballast.Tests.Storage;

/// <summary>
/// The artifact store suites measure the managed heap while they move 200 MB, which only means something when no other
/// test allocates at the same time: xUnit runs this collection on its own, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ArtifactStoreSuite
{
    public const string Name = "Artifact stores";
}
