namespace Ballast.Server.Dashboard;

/// <summary>
/// A rendered page: its title, the navigation entry it belongs to, its body and its status (400 for a search that
/// could not run, say). A live page (traffic, a rollout or pipeline run in progress) refreshes itself in the browser.
/// </summary>
internal sealed record DashboardPage(string Title, string Section, string Body, int Status = 200, bool Live = false);
