using System.Text;

namespace Ballast.Server.Dashboard;

/// <summary>The frame every page shares: header with the navigation and the user, then the page's body.</summary>
internal static class DashboardLayout
{
    private static readonly (string Section, string Label, string Href)[] Navigation =
    [
        ("home", "Home", DashboardRoutes.Home),
        ("monitoring", "Monitoring", DashboardRoutes.Monitors),
        ("rollouts", "Rollouts & experiments", DashboardRoutes.Rollouts),
        ("models", "Models", DashboardRoutes.Models),
        ("experiments", "Experiments & runs", DashboardRoutes.Experiments),
        ("pipelines", "Pipelines", DashboardRoutes.Pipelines),
    ];

    /// <summary>
    /// The page in the frame. A live page's <c>main</c> carries its refresh interval and loads the script that
    /// refreshes it (<see cref="DashboardScript"/>); without JavaScript it is the same page, reloaded by hand.
    /// </summary>
    public static string Render(DashboardPage page, DashboardContext? context, TimeSpan refresh = default)
    {
        var live = page.Live && refresh > TimeSpan.Zero;
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.Append("<title>").Append(Html.Encode(page.Title)).Append(" · Ballast</title>");
        html.Append("<link rel=\"stylesheet\" href=\"").Append(DashboardRoutes.Stylesheet).Append("\"><link rel=\"icon\" href=\"data:,\">");
        if (live)
        {
            html.Append("<script src=\"").Append(DashboardRoutes.Script).Append("\" defer></script>");
        }

        html.Append("</head><body>");
        html.Append("<header><a class=\"brand\" href=\"").Append(DashboardRoutes.Home).Append("\">Ballast</a><nav>");
        if (context is not null)
        {
            foreach (var (section, label, href) in Navigation)
            {
                html.Append("<a href=\"").Append(href).Append('"').Append(section == page.Section ? " class=\"active\" aria-current=\"page\"" : "").Append('>')
                    .Append(Html.Encode(label)).Append("</a>");
            }
        }

        html.Append("</nav>");
        if (context is not null)
        {
            var user = context.User;
            html.Append("<div class=\"user\"><span id=\"user\">").Append(Html.Encode(user.Name)).Append(" (").Append(Html.Encode(user.Role.ToString().ToLowerInvariant())).Append(")</span>");
            if (user.SignedIn)
            {
                html.Append(context.ActionForm(DashboardRoutes.Logout, "Sign out", "link"));
            }

            html.Append("</div>");
        }

        html.Append("</header>");
        if (live)
        {
            // The note stays hidden unless the script runs (it shows it), so a page read without JavaScript promises nothing.
            var seconds = Math.Max(1, (long)Math.Round(refresh.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            html.Append("<main data-refresh=\"").Append(seconds).Append("\"><p class=\"muted refresh\" id=\"refresh-note\" hidden>Updates every ").Append(seconds)
                .Append(" s while this tab is visible.</p>");
        }
        else
        {
            html.Append("<main>");
        }

        html.Append("<h1>").Append(Html.Encode(page.Title)).Append("</h1>").Append(page.Body).Append("</main></body></html>");
        return html.ToString();
    }

    public const string Stylesheet = """
        :root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; background: #f9fafb; }
        body { margin: 0; }
        header { display: flex; align-items: center; gap: 1.5rem; padding: 0.6rem 1.5rem; background: #111827; color: #f9fafb; }
        header a { color: #d1d5db; text-decoration: none; }
        header a.active, header a:hover { color: #ffffff; text-decoration: underline; }
        header .brand { font-weight: 700; color: #ffffff; font-size: 1.1rem; }
        header nav { display: flex; gap: 1rem; flex-wrap: wrap; flex: 1; }
        header .user { display: flex; gap: 0.6rem; align-items: center; font-size: 0.9rem; }
        main { padding: 1rem 1.5rem 3rem; max-width: 1200px; }
        h1 { font-size: 1.5rem; margin: 0.5rem 0 1rem; }
        h2 { font-size: 1.15rem; margin: 1.6rem 0 0.6rem; }
        table { border-collapse: collapse; background: #ffffff; margin-bottom: 1rem; min-width: 40%; }
        th, td { border: 1px solid #e5e7eb; padding: 0.3rem 0.6rem; text-align: left; font-size: 0.9rem; vertical-align: top; }
        th { background: #f3f4f6; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.empty { color: #6b7280; font-style: italic; }
        .badge { display: inline-block; padding: 0.05rem 0.45rem; border-radius: 0.6rem; font-size: 0.8rem; font-weight: 600; }
        .badge.ok { background: #dcfce7; color: #166534; }
        .badge.warn { background: #fef3c7; color: #92400e; }
        .badge.bad { background: #fee2e2; color: #991b1b; }
        .badge.info { background: #dbeafe; color: #1e40af; }
        figure.chart-figure { margin: 0 0 1rem; background: #ffffff; border: 1px solid #e5e7eb; display: inline-block; padding: 0.4rem; max-width: 100%; overflow-x: auto; }
        figcaption { font-size: 0.85rem; color: #4b5563; }
        form.inline { display: inline; margin-right: 0.3rem; }
        button { padding: 0.3rem 0.8rem; border: 1px solid #374151; border-radius: 0.3rem; background: #ffffff; cursor: pointer; }
        button.primary { background: #2563eb; color: #ffffff; border-color: #2563eb; }
        button.danger { background: #dc2626; color: #ffffff; border-color: #dc2626; }
        button.link { background: none; border: none; color: #d1d5db; text-decoration: underline; padding: 0; }
        .notice { padding: 0.5rem 0.8rem; border-radius: 0.3rem; background: #dbeafe; margin-bottom: 1rem; }
        .error { padding: 0.5rem 0.8rem; border-radius: 0.3rem; background: #fee2e2; color: #991b1b; margin-bottom: 1rem; }
        .muted { color: #6b7280; }
        .refresh { float: right; font-size: 0.8rem; margin: 0.6rem 0 0; }
        .refresh.stale { color: #92400e; }
        .login { max-width: 28rem; background: #ffffff; padding: 1rem 1.5rem; border: 1px solid #e5e7eb; }
        .login input[type=password] { width: 100%; padding: 0.4rem; margin: 0.4rem 0 0.8rem; box-sizing: border-box; }
        .search input[type=text] { width: 32rem; padding: 0.3rem; }
        pre { background: #111827; color: #f9fafb; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
        dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
        dl.facts dt { font-weight: 600; }
        dl.facts dd { margin: 0; }
        ol.timeline > li { margin-bottom: 0.8rem; }
        ol.timeline ul.transitions { margin: 0.3rem 0; padding-left: 1.2rem; font-size: 0.9rem; }
        ol.timeline .analysis p { margin: 0.3rem 0; font-size: 0.9rem; }
        form.conclude { margin-top: 0.6rem; background: #ffffff; border: 1px solid #e5e7eb; padding: 0.6rem; }
        """;
}
