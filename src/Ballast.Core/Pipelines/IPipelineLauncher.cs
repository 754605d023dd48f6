namespace Ballast.Pipelines;

/// <summary>
/// Starts a run of a stored pipeline (used by alert actions and other triggers); returns the new run's id. A trigger
/// passes everything it knows; parameters the pipeline does not declare are left out.
/// </summary>
public interface IPipelineLauncher
{
    /// <param name="trigger">What started the run, recorded on it: <c>manual</c>, <c>schedule</c>, <c>alert:RULE</c>, <c>dataset:NAME</c>.</param>
    Task<string> StartAsync(string pipeline, IReadOnlyDictionary<string, string> parameters, string trigger, CancellationToken cancellationToken = default);
}
