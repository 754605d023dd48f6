namespace Ballast.Server.Dashboard;

/// <summary>A page's query could not be used (an unknown run in a comparison, a malformed filter); shown as a 400 page with the message.</summary>
internal sealed class DashboardInputException(string message) : Exception(message);
