using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Ballast.Metadata;
using Ballast.Security;
using Ballast.Tests.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Dashboard;

/// <summary>
/// Every dashboard page answers from real data on both metadata engines (the page queries reach SQLite and
/// PostgreSQL alike), through the sign-in form and its anti-forgery token, as a browser without JavaScript would.
/// </summary>
public abstract partial class DashboardPagesTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    [Fact]
    public async Task Every_page_renders_after_signing_in_through_the_form()
    {
        await using var server = await StartServerAsync();
        var keys = server.App.Services.GetRequiredService<ApiKeyStore>();
        var admin = (await keys.CreateAsync("admin", ApiKeyRole.Admin, Cancel)).Token;
        var reader = (await keys.CreateAsync("viewer", ApiKeyRole.Reader, Cancel)).Token;
        using (var api = server.Client(admin))
        {
            await ServingHelpers.RegisterIrisAsync(api, times: 2);
            (await api.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();
            for (var i = 0; i < 5; i++)
            {
                (await api.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel)).EnsureSuccessStatusCode();
            }

            (await api.PostAsJsonAsync("/api/v1/rollouts", new { name = "iris-v2", endpoint = "iris", model = "models:/iris/2", steps = new object[] { new { setWeight = 10 }, new { pause = new { } } } }, Cancel))
                .StatusCode.ShouldBe(HttpStatusCode.Created);
            (await api.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = "0", run_name = "baseline" }, Cancel)).EnsureSuccessStatusCode();
        }

        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true }) { BaseAddress = server.BaseAddress };
        var form = await browser.GetStringAsync("/ui/login", Cancel);
        using (var signedIn = await browser.PostAsync("/ui/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrf"] = CsrfField().Match(form).Groups[1].Value, ["api_key"] = reader, ["return"] = "/ui/",
        }), Cancel))
        {
            signedIn.StatusCode.ShouldBe(HttpStatusCode.OK);
            signedIn.RequestMessage!.RequestUri!.AbsolutePath.ShouldBe("/ui/");
        }

        foreach (var (path, expected) in new[]
        {
            ("/ui/", "iris-v2"), ("/ui/endpoints/iris", "traffic-split"), ("/ui/monitors", "No monitors yet"), ("/ui/rollouts", "iris-v2"),
            ("/ui/rollouts/iris-v2", "canary weight 10%"), ("/ui/models", "iris"), ("/ui/models/iris", "lineage"), ("/ui/experiments", "Default"),
            ("/ui/experiments/0", "baseline"), ("/ui/pipelines", "No pipelines yet"),
        })
        {
            using var page = await browser.GetAsync(path, Cancel);
            var html = await page.Content.ReadAsStringAsync(Cancel);
            page.StatusCode.ShouldBe(HttpStatusCode.OK, $"{path}: {html}");
            page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            page.Headers.GetValues("Content-Security-Policy").Single().ShouldStartWith("default-src 'none'");
            html.ShouldContain(expected, Case.Sensitive, path);
        }

        // Live pages refresh themselves by the script (every 15 s by default); the others do not load it.
        var home = await browser.GetStringAsync("/ui/", Cancel);
        home.ShouldContain("<main data-refresh=\"15\">");
        home.ShouldContain("<script src=\"/ui/dashboard.js\" defer></script>");
        (await browser.GetStringAsync("/ui/rollouts/iris-v2", Cancel)).ShouldContain("<main data-refresh=\"15\">");
        (await browser.GetStringAsync("/ui/endpoints/iris?refresh=0", Cancel)).ShouldNotContain("dashboard.js");
        var models = await browser.GetStringAsync("/ui/models", Cancel);
        models.ShouldNotContain("data-refresh");
        models.ShouldNotContain("dashboard.js");
        using (var script = await browser.GetAsync("/ui/dashboard.js", Cancel))
        {
            script.StatusCode.ShouldBe(HttpStatusCode.OK);
            script.Content.Headers.ContentType!.MediaType.ShouldBe("text/javascript");
            script.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("script-src 'self'");
        }

        using (var badRefresh = await browser.GetAsync("/ui/?refresh=soon", Cancel))
        {
            badRefresh.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await badRefresh.Content.ReadAsStringAsync(Cancel)).ShouldContain("refresh must be a whole number of seconds from 0 (off) to 3600, not &#x27;soon&#x27;.");
        }

        using var missing = await browser.GetAsync("/ui/monitors/nope", Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await missing.Content.ReadAsStringAsync(Cancel)).ShouldContain("Monitor &#x27;nope&#x27; does not exist.");
    }

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}

public sealed class SqliteDashboardPagesTests() : DashboardPagesTests(DatabaseEngine.Sqlite);

public sealed class PostgresDashboardPagesTests() : DashboardPagesTests(DatabaseEngine.Postgres);
