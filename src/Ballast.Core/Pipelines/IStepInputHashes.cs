using System.Text.Json.Nodes;

namespace Ballast.Pipelines;

/// <summary>
/// A step kind that reads content the runner cannot see in its inputs (a command's local input files) says here what
/// that content hashes to, so a change to it misses the cache.
/// </summary>
public interface IStepInputHashes
{
    /// <summary>A digest of the content the step will read, given its resolved inputs.</summary>
    Task<string> HashInputsAsync(JsonObject inputs, CancellationToken cancellationToken);
}
