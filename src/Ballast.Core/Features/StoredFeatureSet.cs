namespace Ballast.Features;

/// <summary>A stored feature set: its validated spec and a revision that grows with every change.</summary>
public sealed record StoredFeatureSet(FeatureSetSpec Spec, long Revision, long CreatedAt, long UpdatedAt);
