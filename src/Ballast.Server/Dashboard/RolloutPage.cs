using Ballast.Rollouts;

namespace Ballast.Server.Dashboard;

/// <summary>A rollout: its step timeline with each analysis and the reason for every transition; promote, pause, resume and abort for writers.</summary>
internal static class RolloutPage
{
    public static string PhaseBadge(string phase) => Html.Badge(phase, phase switch
    {
        RolloutPhases.Succeeded => "ok",
        RolloutPhases.Aborted => "bad",
        RolloutPhases.Paused => "warn",
        _ => "info",
    });
}
