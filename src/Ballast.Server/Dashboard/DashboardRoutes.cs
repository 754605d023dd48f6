namespace Ballast.Server.Dashboard;

/// <summary>The dashboard's addresses; pages link to each other through these.</summary>
internal static class DashboardRoutes
{
    public const string Prefix = "/ui";
    public const string Home = "/ui/";
    public const string Login = "/ui/login";
    public const string Logout = "/ui/logout";
    public const string Stylesheet = "/ui/dashboard.css";
    public const string Script = "/ui/dashboard.js";
    public const string Monitors = "/ui/monitors";
    public const string Rollouts = "/ui/rollouts";
    public const string Models = "/ui/models";
    public const string Experiments = "/ui/experiments";
    public const string Pipelines = "/ui/pipelines";

    public static string Endpoint(string name) => "/ui/endpoints/" + Uri.EscapeDataString(name);

    public static string Monitor(string name) => "/ui/monitors/" + Uri.EscapeDataString(name);

    public static string MonitorWindow(string name, long id) => $"/ui/monitors/{Uri.EscapeDataString(name)}/windows/{id}";

    public static string Rollout(string name) => "/ui/rollouts/" + Uri.EscapeDataString(name);

    public static string RolloutAction(string name, string action) => $"/ui/rollouts/{Uri.EscapeDataString(name)}/{action}";

    public static string AbExperiment(string name) => "/ui/ab/" + Uri.EscapeDataString(name);

    public static string AbExperimentAction(string name, string action) => $"/ui/ab/{Uri.EscapeDataString(name)}/{action}";

    public static string Model(string name) => "/ui/models/" + Uri.EscapeDataString(name);

    public static string Experiment(string id) => "/ui/experiments/" + Uri.EscapeDataString(id);

    public static string PipelineRun(string id) => "/ui/pipelines/runs/" + Uri.EscapeDataString(id);

    public static string Run(string id) => "/ui/runs/" + Uri.EscapeDataString(id);

    /// <summary>A local path to return to after signing in; anything else (another host, a scheme) goes home.</summary>
    public static string SafeReturn(string? path) =>
        path is { Length: > 0 } && path.StartsWith(Prefix + "/", StringComparison.Ordinal) && !path.StartsWith("//", StringComparison.Ordinal) && !path.Contains('\\', StringComparison.Ordinal)
            ? path
            : Home;
}
