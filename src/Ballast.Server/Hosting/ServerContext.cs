using Ballast.Configuration;
using Ballast.Leasing;
using Ballast.Metadata;
using Ballast.Security;
using Ballast.Server.Security;
using Ballast.Storage;

namespace Ballast.Server.Hosting;

/// <summary>What start-up established before the web host was built: checked stores and the authentication mode.</summary>
public sealed record ServerContext(
    BallastOptions Options,
    MetadataDatabase Database,
    IArtifactStore Artifacts,
    ApiKeyStore Keys,
    LeaseStore Leases,
    AuthenticationMode AuthenticationMode,
    TimeProvider Time);
