namespace Ballast.Audit;

/// <summary>One recorded change. <see cref="Actor"/> is the API key's name ("anonymous" where no key was needed).</summary>
public sealed record AuditEvent(long Id, DateTimeOffset OccurredAt, string Actor, string Action, string ResourceType, string Resource, string? Details);

public sealed record AuditQuery(string? ResourceType = null, string? Resource = null, string? Actor = null, int? MaxResults = null, string? PageToken = null);

public sealed record AuditPage(IReadOnlyList<AuditEvent> Events, string? NextPageToken);
