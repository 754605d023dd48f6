using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Server.Dashboard;

/// <summary>What a page renders with: the request, the signed-in user, the container's stores, the clock.</summary>
internal sealed class DashboardContext(HttpContext http, DashboardUser user)
{
    public HttpContext Http { get; } = http;

    public DashboardUser User { get; } = user;

    public CancellationToken Cancel => Http.RequestAborted;

    public DateTimeOffset Now => Service<TimeProvider>().GetUtcNow();

    public T Service<T>()
        where T : notnull => Http.RequestServices.GetRequiredService<T>();

    public string? Query(string name) => Http.Request.Query.TryGetValue(name, out var value) ? value.ToString() : null;

    /// <summary>
    /// How often a live page refreshes itself: <c>?refresh=SECONDS</c> for this view (0 turns it off), else the
    /// server's <c>--dashboard-refresh</c>. A malformed value is refused with the reason, never ignored.
    /// </summary>
    public TimeSpan Refresh()
    {
        var value = Query("refresh");
        if (value is null)
        {
            return Service<Ballast.Server.Hosting.ServerContext>().Options.DashboardRefresh;
        }

        var max = (int)Ballast.Configuration.BallastDefaults.MaxDashboardRefresh.TotalSeconds;
        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds <= max
            ? TimeSpan.FromSeconds(seconds)
            : throw new DashboardInputException($"refresh must be a whole number of seconds from 0 (off) to {max}, not '{value}'.");
    }

    /// <summary>The anti-forgery token every form posts back (its cookie is set with it).</summary>
    public string CsrfToken() => Service<IAntiforgery>().GetAndStoreTokens(Http).RequestToken!;

    /// <summary>A POST form with the CSRF field and one submit button.</summary>
    public string ActionForm(string action, string label, string? cssClass = null, string? confirmName = null) =>
        $"<form method=\"post\" action=\"{Html.Attribute(action)}\" class=\"inline\"><input type=\"hidden\" name=\"{DashboardApi.CsrfField}\" value=\"{Html.Attribute(CsrfToken())}\">" +
        $"<button type=\"submit\"{(cssClass is null ? "" : $" class=\"{cssClass}\"")}{(confirmName is null ? "" : $" name=\"{Html.Attribute(confirmName)}\"")}>{Html.Encode(label)}</button></form>";
}
