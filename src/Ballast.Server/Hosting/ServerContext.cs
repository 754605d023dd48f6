using Ballast.Configuration;
using Ballast.Leasing;
using Ballast.Metadata;
using Ballast.Security;
using Ballast.Server.Security;
using Ballast.Storage;

namespace Ballast.Server.Hosting;

/// <summary>What start-up established before the web host was built: checked stores (the Redis online store when configured; null: embedded), the authentication mode, and the prediction log with any records a crash left rolled into segments.</summary>
public sealed record ServerContext(
    BallastOptions Options,
    MetadataDatabase Database,
    IArtifactStore Artifacts,
    ApiKeyStore Keys,
    LeaseStore Leases,
    AuthenticationMode AuthenticationMode,
    TimeProvider Time,
    Ballast.Serving.PredictionLog Predictions,
    Ballast.Features.IOnlineStore? OnlineStore = null);
