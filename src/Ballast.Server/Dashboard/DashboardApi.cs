using System.Text;
using Ballast.Security;
using Ballast.Server.Security;
using Ballast.Tracking;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Server.Dashboard;

/// <summary>
/// The web dashboard under <c>/ui</c> (and <c>/</c>, which redirects there): pages rendered on the server as HTML
/// with SVG charts, readable without JavaScript. Pages read through the stores in the container. Signing in takes an
/// API key (<see cref="DashboardSession"/>); every form carries an anti-forgery token; acting needs the writer role.
/// </summary>
public static class DashboardApi
{
    public const string CsrfField = "csrf";

    // Scripts only from /ui/dashboard.js (no inline script), which fetches pages of this site only.
    private const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddAntiforgery(options =>
        {
            options.FormFieldName = CsrfField;
            options.HeaderName = null;
            options.Cookie.Name = "ballast_csrf";
            options.Cookie.Path = DashboardRoutes.Prefix;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.HttpOnly = true;
        });
        services.AddSingleton<DashboardSession>();
        return services;
    }

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", () => TypedResults.Redirect(DashboardRoutes.Home)).AllowAnonymous().ExcludeFromDescription();
        var ui = routes.MapGroup(DashboardRoutes.Prefix).AllowAnonymous().ExcludeFromDescription();
        ui.AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            headers.CacheControl = "no-store";
            return await next(context).ConfigureAwait(false);
        });

        ui.MapGet("/dashboard.css", () => TypedResults.Text(DashboardLayout.Stylesheet, "text/css; charset=utf-8"));
        ui.MapGet("/dashboard.js", () => TypedResults.Text(DashboardScript.Source, "text/javascript; charset=utf-8"));
        ui.MapGet("/login", (Delegate)LoginFormAsync);
        ui.MapPost("/login", (Delegate)LoginAsync);
        ui.MapPost("/logout", (Delegate)LogoutAsync);

        ui.MapGet("/", Page(HomePage.RenderAsync));
        ui.MapGet("/endpoints/{name}", Page(EndpointPage.RenderAsync));
        ui.MapGet("/monitors", Page(MonitorPage.ListAsync));
        ui.MapGet("/monitors/{name}", Page(MonitorPage.RenderAsync));
        ui.MapGet("/monitors/{name}/windows/{id}", Page(MonitorPage.WindowAsync));
        ui.MapGet("/rollouts", Page(RolloutPage.ListAsync));
        ui.MapGet("/rollouts/{name}", Page(RolloutPage.RenderAsync));
        ui.MapPost("/rollouts/{name}/{command}", Action(RolloutPage.CommandAsync));
        ui.MapGet("/ab/{name}", Page(RolloutPage.ExperimentAsync));
        ui.MapPost("/ab/{name}/{command}", Action(RolloutPage.ExperimentCommandAsync));
        ui.MapGet("/models", Page(ModelPage.ListAsync));
        ui.MapGet("/models/{name}", Page(ModelPage.RenderAsync));
        ui.MapGet("/experiments", Page(RunsPage.ListAsync));
        ui.MapGet("/experiments/{id}", Page(RunsPage.ExperimentAsync));
        ui.MapGet("/runs/compare", Page(RunsPage.CompareAsync));
        ui.MapGet("/runs/{id}", Page(RunsPage.RunAsync));
        ui.MapGet("/pipelines", Page(PipelinePage.ListAsync));
        ui.MapGet("/pipelines/runs/{id}", Page(PipelinePage.RunAsync));
        return routes;
    }

    /// <summary>Wraps a page: the user must be signed in (else the login form, coming back here after), and a missing or refused thing is an error page with its status.</summary>
    internal static Func<HttpContext, Task<IResult>> Page(Func<DashboardContext, Task<DashboardPage>> render) => async http =>
    {
        var user = await http.RequestServices.GetRequiredService<DashboardSession>().ResolveAsync(http).ConfigureAwait(false);
        if (user is null)
        {
            return TypedResults.Redirect(DashboardRoutes.Login + "?return=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
        }

        http.User = BallastClaims.Principal(user.Name, user.Role);
        var context = new DashboardContext(http, user);
        try
        {
            var refresh = context.Refresh();
            var page = await render(context).ConfigureAwait(false);
            return HtmlResult(DashboardLayout.Render(page, context, refresh), page.Status);
        }
        catch (TrackingException exception)
        {
            var status = exception.Code == TrackingException.ResourceDoesNotExist ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest;
            return ErrorPage(context, status, status == StatusCodes.Status404NotFound ? "Not found" : "Cannot show this", exception.Message);
        }
        catch (DashboardInputException exception)
        {
            return ErrorPage(context, StatusCodes.Status400BadRequest, "Cannot show this", exception.Message);
        }
    };

    /// <summary>Wraps a form's action: signed in, a valid anti-forgery token, the writer role; then back to <c>done</c>'s page with a notice.</summary>
    internal static Func<HttpContext, Task<IResult>> Action(Func<DashboardContext, Task<string>> act) => async http =>
    {
        var user = await http.RequestServices.GetRequiredService<DashboardSession>().ResolveAsync(http).ConfigureAwait(false);
        if (user is null)
        {
            return TypedResults.Redirect(DashboardRoutes.Login);
        }

        http.User = BallastClaims.Principal(user.Name, user.Role);
        var context = new DashboardContext(http, user);
        if (!await IsValidFormAsync(http).ConfigureAwait(false))
        {
            return ErrorPage(context, StatusCodes.Status400BadRequest, "Form expired", "The form's anti-forgery token is missing or invalid; reload the page and try again.");
        }

        if (!user.CanAct)
        {
            return ErrorPage(context, StatusCodes.Status403Forbidden, "Not allowed",
                $"Your API key '{user.Name}' has the role '{user.Role.ToName()}'; this action needs 'writer' or higher.");
        }

        try
        {
            return TypedResults.Redirect(await act(context).ConfigureAwait(false));
        }
        catch (TrackingException exception)
        {
            var status = exception.Code == TrackingException.ResourceDoesNotExist ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict;
            return ErrorPage(context, status, "The action was refused", exception.Message);
        }
    };

    private static async Task<IResult> LoginFormAsync(HttpContext http)
    {
        var user = await http.RequestServices.GetRequiredService<DashboardSession>().ResolveAsync(http).ConfigureAwait(false);
        return HtmlResult(LoginPage(http, http.Request.Query["return"].ToString(), user, error: null), StatusCodes.Status200OK);
    }

    private static async Task<IResult> LoginAsync(HttpContext http)
    {
        var session = http.RequestServices.GetRequiredService<DashboardSession>();
        http.User = Anonymous();
        if (!await IsValidFormAsync(http).ConfigureAwait(false))
        {
            return HtmlResult(LoginPage(http, null, null, "The form's anti-forgery token is missing or invalid; reload the page and try again."), StatusCodes.Status400BadRequest);
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        var token = form["api_key"].ToString().Trim();
        var returnTo = DashboardRoutes.SafeReturn(form["return"].ToString());
        if (token.Length == 0)
        {
            return HtmlResult(LoginPage(http, returnTo, null, "Enter an API key (create one with `ballast keys create --name NAME --role reader`)."), StatusCodes.Status400BadRequest);
        }

        return await session.SignInAsync(http, token).ConfigureAwait(false) is null
            ? HtmlResult(LoginPage(http, returnTo, null, "The API key is invalid or has been revoked."), StatusCodes.Status401Unauthorized)
            : TypedResults.Redirect(returnTo);
    }

    private static async Task<IResult> LogoutAsync(HttpContext http)
    {
        var user = await http.RequestServices.GetRequiredService<DashboardSession>().ResolveAsync(http).ConfigureAwait(false);
        http.User = user is null ? Anonymous() : BallastClaims.Principal(user.Name, user.Role);
        if (!await IsValidFormAsync(http).ConfigureAwait(false))
        {
            return HtmlResult(LoginPage(http, null, null, "The form's anti-forgery token is missing or invalid; reload the page and try again."), StatusCodes.Status400BadRequest);
        }

        DashboardSession.SignOut(http);
        return TypedResults.Redirect(DashboardRoutes.Login);
    }

    /// <summary>The login form is issued to, and checked for, nobody in particular (its token is not bound to a key).</summary>
    private static System.Security.Claims.ClaimsPrincipal Anonymous() => new(new System.Security.Claims.ClaimsIdentity());

    private static async Task<bool> IsValidFormAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType)
        {
            return false;
        }

        // Tokens are bound to the user they were issued to (http.User is set to that user before this check).
        var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
        return await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false);
    }

    private static string LoginPage(HttpContext http, string? returnTo, DashboardUser? user, string? error)
    {
        http.User = Anonymous();
        var token = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http).RequestToken!;
        var body = new Html();
        if (error is not null)
        {
            body.Tag("p", error, "class=\"error\" id=\"login-error\"");
        }

        if (user is { SignedIn: false })
        {
            body.Tag("p", "This server lets requests without an API key through (no keys exist yet on loopback, or --insecure): the dashboard is open.", "class=\"notice\"");
        }

        body.Raw($"<form class=\"login\" method=\"post\" action=\"{DashboardRoutes.Login}\"><input type=\"hidden\" name=\"{CsrfField}\" value=\"{Html.Attribute(token)}\">")
            .Raw($"<input type=\"hidden\" name=\"return\" value=\"{Html.Attribute(DashboardRoutes.SafeReturn(returnTo))}\">")
            .Raw("<label for=\"api_key\">API key</label><input type=\"password\" id=\"api_key\" name=\"api_key\" autocomplete=\"current-password\" required>")
            .Raw("<button type=\"submit\" class=\"primary\">Sign in</button>")
            .Tag("p", "Readers see everything; writers can also promote, pause and abort rollouts, and stop and conclude experiments.", "class=\"muted\"")
            .Raw("</form>");
        return DashboardLayout.Render(new DashboardPage("Sign in", "login", body.ToString()), null);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult ErrorPage(DashboardContext context, int status, string title, string message)
    {
        var body = new Html().Tag("p", message, "class=\"error\" id=\"error\"").Link(DashboardRoutes.Home, "Back to the home page");
        return HtmlResult(DashboardLayout.Render(new DashboardPage(title, "", body.ToString()), context), status);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult HtmlResult(string html, int status = StatusCodes.Status200OK) => TypedResults.Content(html, "text/html", Encoding.UTF8, status);
}
