using Ballast.Security;

namespace Ballast.Server.Dashboard;

/// <summary>Who is looking at the dashboard: the API key's name and role (readers see, writers act).</summary>
internal sealed record DashboardUser(string Name, ApiKeyRole Role, bool SignedIn)
{
    public bool CanAct => Role >= ApiKeyRole.Writer;
}
