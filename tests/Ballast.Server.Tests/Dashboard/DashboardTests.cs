using System.Net;
using Microsoft.Playwright;

namespace Ballast.Tests.Dashboard;

/// <summary>The dashboard in real Chromium against a seeded server: each page renders its data and charts, actions work, no console errors.</summary>
public sealed class DashboardTests(DashboardScenario scenario) : IClassFixture<DashboardScenario>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private string Url(string path) => new Uri(scenario.Server.BaseAddress, path).ToString();

    /// <summary>Opens a signed-in page with <paramref name="key"/>, runs <paramref name="test"/>, saves a screenshot and checks the console stayed clean.</summary>
    private async Task WithPageAsync(string key, string screenshot, Func<IPage, Task> test, int[]? expectedStatuses = null)
    {
        var errors = new List<string>();
        var (context, page) = await scenario.Browser.NewPageAsync(errors);
        await using (context)
        {
            await page.GotoAsync(Url("/ui/login"));
            await page.FillAsync("#api_key", key);
            await page.ClickAsync("button[type=submit]");
            await DashboardBrowser.ArrivedAsync(page, "^(?!.*/ui/login)");
            try
            {
                await test(page);
            }
            finally
            {
                await DashboardBrowser.ScreenshotAsync(page, screenshot);
            }
        }

        // A page the test expects to be refused is logged by Chromium as a failed resource load; nothing else may be.
        errors.RemoveAll(error => (expectedStatuses ?? []).Any(status => error.Contains($"status of {status} ", StringComparison.Ordinal)));
        errors.ShouldBeEmpty();
    }

    private static async Task<string> TextAsync(IPage page, string selector) => await page.Locator(selector).InnerTextAsync();

    /// <summary>Posts a form to <paramref name="path"/> with the page's session and its anti-forgery token (or <paramref name="token"/>), not following redirects.</summary>
    private async Task<IAPIResponse> PostFormAsync(IPage page, string path, string? token = null)
    {
        token ??= await page.Locator("header form input[name=csrf]").GetAttributeAsync("value");
        return await page.Context.APIRequest.PostAsync(Url(path), new() { Form = page.Context.APIRequest.CreateFormData().Set("csrf", token!), MaxRedirects = 0 });
    }

    [Fact]
    public async Task Root_redirects_to_the_login_form_and_a_wrong_key_is_refused_with_a_reason()
    {
        var errors = new List<string>();
        var (context, page) = await scenario.Browser.NewPageAsync(errors);
        await using (context)
        {
            await page.GotoAsync(Url("/"));
            page.Url.ShouldContain("/ui/login?return=");
            await page.FillAsync("#api_key", "blst_not-a-key");
            var response = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("button[type=submit]"), r => r.Url.EndsWith("/ui/login", StringComparison.Ordinal));
            response.Status.ShouldBe(401);
            (await TextAsync(page, "#login-error")).ShouldBe("The API key is invalid or has been revoked.");
            await DashboardBrowser.ScreenshotAsync(page, "login-refused");

            errors.RemoveAll(error => error.Contains("status of 401", StringComparison.Ordinal)); // the refusal above, as expected
            await page.FillAsync("#api_key", scenario.ReaderKey);
            await page.ClickAsync("button[type=submit]");
            await DashboardBrowser.ArrivedAsync(page, "/ui/$");
            var session = (await context.CookiesAsync()).Single(cookie => cookie.Name == "ballast_session");
            (session.HttpOnly, session.SameSite, session.Path).ShouldBe((true, SameSiteAttribute.Strict, "/ui"));
            session.Value.ShouldNotContain(scenario.ReaderKey, Case.Sensitive, "the key is stored encrypted");
            (await TextAsync(page, "#user")).ShouldBe("analyst (reader)");

            await page.ClickAsync("header button:has-text('Sign out')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/login");
            (await context.CookiesAsync()).ShouldNotContain(cookie => cookie.Name == "ballast_session");

            // A return address off this site is ignored: signing in lands on the home page.
            await page.GotoAsync(Url("/ui/login?return=" + Uri.EscapeDataString("//evil.example/ui/")));
            await page.FillAsync("#api_key", scenario.ReaderKey);
            await page.ClickAsync("button[type=submit]");
            await DashboardBrowser.ArrivedAsync(page, "/ui/$");
            page.Url.ShouldBe(Url("/ui/"));
        }

        errors.ShouldBeEmpty();
    }

    [Fact]
    public async Task Forms_without_the_anti_forgery_token_and_pages_without_a_session_are_refused()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = scenario.Server.BaseAddress };
        using (var page = await client.GetAsync("/ui/", Cancel))
        {
            page.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            page.Headers.Location!.ToString().ShouldBe("/ui/login?return=%2Fui%2F");
        }

        using (var login = await client.PostAsync("/ui/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["api_key"] = scenario.WriterKey }), Cancel))
        {
            login.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await login.Content.ReadAsStringAsync(Cancel)).ShouldContain("anti-forgery token is missing or invalid");
            (login.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : []).ShouldNotContain(cookie => cookie.StartsWith("ballast_session=", StringComparison.Ordinal), "no session without a valid form");
        }

        using var api = await client.GetAsync("/api/v1/endpoints", Cancel);
        api.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "the API still wants its bearer key");
    }

    [Fact]
    public async Task Home_shows_endpoints_with_live_traffic_variants_weights_firing_alerts_and_rollouts_in_progress()
    {
        await scenario.ScoreLiveAsync(30);
        await WithPageAsync(scenario.ReaderKey, "home", async page =>
        {
            var iris = page.Locator("#endpoints tbody tr:has(td:first-child a:text-is('iris'))");
            var row = await iris.InnerTextAsync();
            row.ShouldContain("main");
            row.ShouldContain("80%");
            row.ShouldContain("challenger");
            row.ShouldContain("20%");
            row.ShouldContain("shadow");
            var rate = double.Parse(await iris.Locator("td").Nth(3).InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);
            rate.ShouldBeGreaterThanOrEqualTo(0.5, "30 requests were scored just now (the last minute's rate)");
            (await iris.Locator("td").Nth(4).InnerTextAsync()).ShouldBe("0%");
            (await iris.Locator("td").Nth(5).InnerTextAsync()).ShouldContain("main:");
            (await TextAsync(page, "#alerts")).ShouldContain("iris-drift-high");
            (await TextAsync(page, "#alerts")).ShouldContain("critical");
            (await TextAsync(page, "#rollouts")).ShouldContain("fraud-v2");
        });
    }

    [Fact]
    public async Task Home_refreshes_itself_when_new_traffic_arrives_without_navigating()
    {
        await scenario.ScoreLiveAsync(5);
        await WithPageAsync(scenario.ReaderKey, "home-refreshed", async page =>
        {
            // ?refresh=1 for this view only (the server's default is 15 s); the page is the same one a reload would show.
            await page.GotoAsync(Url("/ui/?refresh=1"));
            (await page.Locator("main").GetAttributeAsync("data-refresh")).ShouldBe("1");
            (await page.Locator("#refresh-note").InnerTextAsync()).ShouldBe("Updates every 1 s while this tab is visible.");
            var navigations = 0;
            page.FrameNavigated += (_, frame) =>
            {
                if (frame == page.MainFrame)
                {
                    Interlocked.Increment(ref navigations);
                }
            };
            await page.EvaluateAsync("() => { window.ballastMarker = 'still this page'; }");
            var requests = page.Locator("#endpoints tbody tr:has(td:first-child a:text-is('iris')) td:nth-child(4)");
            var before = await requests.InnerTextAsync();

            await scenario.ScoreLiveAsync(60);

            // Playwright polls (bounded by its default timeout) until the cell shows the new last-minute rate.
            await Assertions.Expect(requests).Not.ToHaveTextAsync(before);
            (await page.EvaluateAsync<string>("() => window.ballastMarker")).ShouldBe("still this page", "the content was swapped in, not reloaded");
            navigations.ShouldBe(0);
            page.Url.ShouldBe(Url("/ui/?refresh=1"));
            (await page.Locator("main").GetAttributeAsync("data-refreshed-at")).ShouldNotBeNull();
            (await page.Locator("#refresh-note").GetAttributeAsync("class")).ShouldBe("muted refresh");

            // The session ends (its cookie is gone): the next fetch lands on the login form, so the page stops and says so.
            await page.Context.ClearCookiesAsync();
            await Assertions.Expect(page.Locator("#refresh-note")).ToHaveTextAsync("Stopped updating: the session has ended or the page is gone. Reload the page.");
            (await page.Locator("#refresh-note").GetAttributeAsync("class")).ShouldBe("muted refresh stale");
            (await requests.InnerTextAsync()).ShouldNotBe(before, "the last data stays on screen");
            navigations.ShouldBe(0);
        });
    }

    [Fact]
    public async Task A_live_page_does_not_fetch_while_its_tab_is_hidden_or_text_is_selected_and_catches_up_after()
    {
        await WithPageAsync(scenario.ReaderKey, "home-hidden", async page =>
        {
            // The page's timers run on Playwright's fake clock, paused while the tab is hidden, so that only the
            // intervals the test lets pass fire (and "five intervals" take no real time).
            var start = new DateTime(2026, 12, 5, 0, 0, 0, DateTimeKind.Utc);
            await page.Clock.InstallAsync(new ClockInstallOptions { TimeDate = start });
            // The tab reads as hidden from the first script on, until the test shows it.
            await page.AddInitScriptAsync("Object.defineProperty(document, 'hidden', { configurable: true, get: () => window.ballastHidden !== false });");
            var fetches = 0;
            page.Request += (_, request) =>
            {
                if (request.ResourceType == "fetch")
                {
                    Interlocked.Increment(ref fetches);
                }
            };
            await page.GotoAsync(Url("/ui/?refresh=1"));

            await page.EvaluateAsync("() => document.dispatchEvent(new Event('visibilitychange'))");
            await page.Clock.PauseAtAsync(start.AddHours(1));
            await page.Clock.RunForAsync(5_000);
            await page.EvaluateAsync("() => document.title"); // a round trip, so that any request the timers made has been reported
            fetches.ShouldBe(0, "a hidden tab skips its turns");

            var shown = await page.RunAndWaitForResponseAsync(
                () => page.EvaluateAsync("() => { window.ballastHidden = false; document.dispatchEvent(new Event('visibilitychange')); }"),
                response => response.Request.ResourceType == "fetch");
            shown.Url.ShouldBe(Url("/ui/?refresh=1"));
            shown.Status.ShouldBe(200);
            fetches.ShouldBe(1, "shown again, it refreshes at once");
            // The swap follows the response: wait for it (a mutation, not a timer: the clock is paused), or it would
            // replace the heading selected below and take the selection with it.
            await page.EvaluateAsync(@"() => new Promise(resolve => {
                const main = document.querySelector('main');
                if (main.dataset.refreshedAt) { resolve(); return; }
                new MutationObserver((_, observer) => { if (main.dataset.refreshedAt) { observer.disconnect(); resolve(); } }).observe(main, { attributes: true });
            })");

            // Someone selects text to copy it: no swap takes the selection away until it is cleared.
            await page.EvaluateAsync("() => window.getSelection().selectAllChildren(document.querySelector('main h1'))");
            await page.Clock.RunForAsync(3_000);
            await page.EvaluateAsync("() => document.title");
            fetches.ShouldBe(1, "a selection in the page holds the refresh");
            await page.EvaluateAsync("() => window.getSelection().removeAllRanges()");
            var next = await page.RunAndWaitForResponseAsync(() => page.Clock.RunForAsync(1_000), response => response.Request.ResourceType == "fetch");
            next.Status.ShouldBe(200);
            fetches.ShouldBe(2);
        });
    }

    [Fact]
    public async Task Endpoint_page_charts_the_split_latency_errors_shadow_disagreement_and_predictions()
    {
        await WithPageAsync(scenario.ReaderKey, "endpoint-iris", async page =>
        {
            await page.ClickAsync("#endpoints a:text-is('iris')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/endpoints/iris$");
            (await TextAsync(page, "h1")).ShouldBe("Endpoint iris");
            (await TextAsync(page, "#variants")).ShouldContain("challenger");
            foreach (var chart in new[] { "#traffic-split", "#latency-p99", "#latency-p50", "#error-rate", "#shadow-disagreement", "#prediction-output_label" })
            {
                (await page.Locator(chart).CountAsync()).ShouldBe(1, chart);
            }

            (await page.Locator("#traffic-split polyline.series, #traffic-split circle.point").CountAsync()).ShouldBeGreaterThan(0, "the split has points");
            (await page.Locator("#prediction-output_label rect.bar").CountAsync()).ShouldBeGreaterThan(0, "the predicted classes have bars");
        });
    }

    [Fact]
    public async Task Bandit_endpoint_shows_its_arm_allocations_an_adaptive_ensemble_its_weights_and_an_unknown_endpoint_or_range_is_an_error_page()
    {
        await WithPageAsync(scenario.ReaderKey, "endpoint-ranker", async page =>
        {
            await page.GotoAsync(Url("/ui/endpoints/ranker?range=15m"));
            (await page.Locator("#bandit-arms").CountAsync()).ShouldBe(1);
            (await TextAsync(page, "#arms")).ShouldContain("a");
            await page.GotoAsync(Url("/ui/endpoints/blend"));
            (await page.Locator("#ensemble-weights tr").CountAsync()).ShouldBe(3, "a header and the members a and b");

            var missing = await page.GotoAsync(Url("/ui/endpoints/nope"));
            missing!.Status.ShouldBe(404);
            (await TextAsync(page, "#error")).ShouldBe("Endpoint 'nope' does not exist.");
            var badRange = await page.GotoAsync(Url("/ui/endpoints/iris?range=2y"));
            badRange!.Status.ShouldBe(400);
            (await TextAsync(page, "#error")).ShouldBe("range '2y' is not one of 15m, 1h, 6h, 24h, 7d.");
        }, expectedStatuses: [404, 400]);
    }

    [Fact]
    public async Task Regime_endpoint_shows_its_timeline_and_current_regime()
    {
        await WithPageAsync(scenario.ReaderKey, "endpoint-pricing", async page =>
        {
            await page.GotoAsync(Url("/ui/endpoints/pricing?range=15m"));
            (await page.Locator("#regime-timeline circle.point").CountAsync()).ShouldBeGreaterThan(0);
            (await TextAsync(page, "#regime-now")).ShouldStartWith("Current regime 1 (signal 0.9)");
            (await TextAsync(page, "#variants")).ShouldContain("stressed");
        });
    }

    [Fact]
    public async Task Monitoring_shows_the_drift_heat_map_metrics_beside_kpis_with_their_correlation_segments_and_a_window_report()
    {
        await WithPageAsync(scenario.ReaderKey, "monitor", async page =>
        {
            await page.ClickAsync("header a:text-is('Monitoring')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/monitors$");
            (await TextAsync(page, "#monitors")).ShouldContain("iris-drift-high", Case.Sensitive, "the firing alert is beside its monitor");
            await page.ClickAsync("#monitors a:text-is('iris-watch')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/monitors/iris-watch$");
            (await page.Locator("#drift-heatmap rect.cell").CountAsync()).ShouldBe(4 * 3, "four features by three windows");
            (await page.Locator("#drift-heatmap rect.cell.flagged").CountAsync()).ShouldBeGreaterThanOrEqualTo(2, "the shifted petals drifted");
            (await page.Locator("#metrics-kpis polyline.series").CountAsync()).ShouldBeGreaterThan(0);
            var correlations = await TextAsync(page, "#correlations");
            correlations.ShouldContain("drift.share");
            correlations.ShouldContain("kpi.revenue.sum");
            // drift.share rises (0, 0.5, 0.5 or so) while revenue falls (100, 80, 55): the correlation is negative.
            var driftVsRevenue = page.Locator("#correlations tbody tr:has(td:text-is('drift.share')):has(td:text-is('kpi.revenue.sum')) td").Nth(2);
            double.Parse(await driftVsRevenue.InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeLessThan(0);
            (await TextAsync(page, "#segments")).ShouldContain("sepal_width=");
            (await page.Locator("#latency polyline.series").CountAsync()).ShouldBeGreaterThan(0);
            (await page.Locator("#performance polyline.series").CountAsync()).ShouldBe(6, "CBPE's six rate estimates of the multiclass iris model (specificity among them), not their sampling errors or the confusion-matrix counts");
            (await page.Locator("#performance polygon.band").CountAsync()).ShouldBeGreaterThanOrEqualTo(4, "± 3 sampling errors around each estimate the reference's labels give one");
            (await page.Locator("#performance polygon.band title").First.TextContentAsync())!.ShouldContain(" to ");
            (await TextAsync(page, "h2:has-text('Estimated confusion matrix')")).ShouldContain("each true class's expected rows as fractions", Case.Sensitive,
                "the monitor normalizes the cells by true class (normalize_confusion_matrix: true)");
            (await page.Locator("#estimated-confusion polyline.series").CountAsync()).ShouldBe(9, "one line per (true, predicted) pair of the three iris classes");
            (await page.Locator("#estimated-confusion polygon.band").CountAsync()).ShouldBeGreaterThanOrEqualTo(1, "± 3 sampling errors around the cells the reference gives one");
            var cell = (await page.Locator("#estimated-confusion circle.point title").First.TextContentAsync())!;
            double.Parse(cell[(cell.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture).ShouldBeInRange(0, 1, $"a cell normalized by its true class is a fraction: {cell}");
            (await page.Locator("#windows tbody tr").CountAsync()).ShouldBe(3);
            await DashboardBrowser.ScreenshotAsync(page, "monitor-page");

            await page.ClickAsync("#windows tbody tr:first-child a");
            await DashboardBrowser.ArrivedAsync(page, "/windows/");
            (await TextAsync(page, "#drift")).ShouldContain("petal_length");
            (await page.Locator("[id='distribution-petal_length'] rect.bar").CountAsync()).ShouldBeGreaterThan(0, "reference and current bars");
            (await TextAsync(page, "#metrics")).ShouldContain("kpi.revenue.sum");
            await DashboardBrowser.ScreenshotAsync(page, "monitor-window");
        });
    }

    [Fact]
    public async Task Rollout_page_shows_steps_and_transitions_and_a_reader_cannot_act()
    {
        await WithPageAsync(scenario.ReaderKey, "rollout-reader", async page =>
        {
            await page.ClickAsync("header a:text-is('Rollouts & experiments')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/rollouts$");
            (await TextAsync(page, "#experiments")).ShouldContain("checkout-ab");
            await page.ClickAsync("#rollouts a:text-is('fraud-v2')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/rollouts/fraud-v2$");
            (await TextAsync(page, "#phase")).ShouldBe("Paused");
            (await TextAsync(page, "#steps")).ShouldContain("pause until promoted");
            (await TextAsync(page, "#history")).ShouldContain("canary weight 25%");
            (await page.Locator("#canary-weight circle.point").CountAsync()).ShouldBeGreaterThan(0);
            (await page.Locator("#actions").CountAsync()).ShouldBe(0, "a reader gets no buttons");
            (await TextAsync(page, "#actions-readonly")).ShouldContain("writer role");

            // Even with a valid form token, the action itself is refused for a reader.
            var refused = await PostFormAsync(page, "/ui/rollouts/fraud-v2/abort");
            refused.Status.ShouldBe(403);
            (await refused.TextAsync()).ShouldContain("Your API key &#x27;analyst&#x27; has the role &#x27;reader&#x27;; this action needs &#x27;writer&#x27; or higher.");
            var forged = await PostFormAsync(page, "/ui/rollouts/fraud-v2/abort", token: "forged");
            forged.Status.ShouldBe(400);
        });
    }

    [Fact]
    public async Task A_writer_promotes_a_paused_rollout_from_its_page()
    {
        await WithPageAsync(scenario.WriterKey, "rollout-writer", async page =>
        {
            await page.GotoAsync(Url("/ui/rollouts/payments-v2"));
            (await TextAsync(page, "#phase")).ShouldBe("Paused");
            await page.ClickAsync("#actions button:text-is('Promote')");
            await DashboardBrowser.ArrivedAsync(page, "\\?done=promote$");
            (await TextAsync(page, "#notice")).ShouldBe("Done: promote.");
            (await TextAsync(page, "#history")).ShouldContain("promoted by hand");
        });
    }

    [Fact]
    public async Task Experiment_page_shows_results_with_intervals_srm_and_the_decision()
    {
        await WithPageAsync(scenario.ReaderKey, "experiment", async page =>
        {
            await page.GotoAsync(Url("/ui/rollouts"));
            await page.ClickAsync("#experiments a:text-is('checkout-ab')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/ab/checkout-ab$");
            (await TextAsync(page, "#decision")).ShouldBe("ship b");
            (await TextAsync(page, "#srm")).ShouldStartWith("ok p = ");
            (await TextAsync(page, "#variants")).ShouldContain("better");
            (await page.Locator("#means line.interval").CountAsync()).ShouldBe(2);
            (await page.Locator("#lifts line.interval").CountAsync()).ShouldBe(1);
            (await TextAsync(page, "#status")).ShouldBe("running");
            (await page.Locator("#experiment-actions, #conclude-form").CountAsync()).ShouldBe(0, "a reader gets no forms");
            (await TextAsync(page, "#experiment-actions-readonly")).ShouldContain("writer role");

            // Even with a valid form token, stopping is refused for a reader.
            var refused = await PostFormAsync(page, "/ui/ab/checkout-ab/stop");
            refused.Status.ShouldBe(403);
        });
    }

    [Fact]
    public async Task A_writer_concludes_an_experiment_from_its_page_and_the_page_shows_the_decision()
    {
        await WithPageAsync(scenario.WriterKey, "experiment-concluded", async page =>
        {
            await page.GotoAsync(Url("/ui/ab/signup-ab"));
            (await TextAsync(page, "#status")).ShouldBe("running");
            await page.SelectOptionAsync("#winner-select", "b");
            await page.FillAsync("#reason-input", "b signs up more than twice as often");
            await page.CheckAsync("#apply-input");
            await page.ClickAsync("#conclude-form button[type=submit]");
            await DashboardBrowser.ArrivedAsync(page, "\\?done=conclude$");

            (await TextAsync(page, "#notice")).ShouldBe("Done: conclude.");
            (await TextAsync(page, "#status")).ShouldStartWith("concluded data collection stopped ");
            (await TextAsync(page, "#winner")).ShouldBe("b");
            (await TextAsync(page, "#reason")).ShouldBe("b signs up more than twice as often");
            (await TextAsync(page, "#concluded")).ShouldEndWith(" by ops-writer");
            (await TextAsync(page, "#applied")).ShouldStartWith("all traffic routed to b at ");
            (await page.Locator("#decision-results tbody tr").CountAsync()).ShouldBe(2, "the results the decision was made on");
            (await page.Locator("#experiment-actions, #conclude-form").CountAsync()).ShouldBe(0, "a decision is final: no more forms");
            (await page.Locator("main").GetAttributeAsync("data-refresh")).ShouldBeNull("a concluded experiment's page does not refresh");
        });

        using var client = scenario.Server.Client(scenario.ReaderKey);
        var endpoint = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(client, "/api/v1/endpoints/signup", Cancel);
        endpoint.GetProperty("variants").EnumerateArray().Select(v => (v.GetProperty("name").GetString(), v.GetProperty("weight").GetInt32())).ShouldBe([("a", 0), ("b", 100)]);
    }

    [Fact]
    public async Task Rollout_page_lists_each_ended_analysis_under_its_step_with_the_measurements_per_metric()
    {
        await WithPageAsync(scenario.ReaderKey, "rollout-analyses", async page =>
        {
            await page.GotoAsync(Url("/ui/rollouts/ledger-v2"));
            (await TextAsync(page, "#phase")).ShouldBe("Paused");
            (await page.Locator("#timeline .analysis").CountAsync()).ShouldBe(2);
            (await page.Locator("#timeline-step-2 .analysis").CountAsync()).ShouldBe(1, "the first analysis is step 2");
            (await page.Locator("#timeline-step-4 .analysis").CountAsync()).ShouldBe(1, "the second analysis is step 4");
            var second = await TextAsync(page, "#timeline-step-4");
            second.ShouldContain("Analysis 2 of canary: Successful");
            second.ShouldContain("analysis passed (1 of 1 measurements successful)");
            (await TextAsync(page, "#analysis-2-measurements")).ShouldContain("error_rate > 0.5");
            (await TextAsync(page, "#timeline-step-1")).ShouldContain("canary weight 20%", Case.Sensitive, "the reason the rollout moved on from the weight step");
            (await TextAsync(page, "#timeline-step-5")).ShouldContain("paused until promoted");
        });
    }

    [Fact]
    public async Task Model_page_shows_versions_stage_history_the_card_and_lineage_from_dataset_to_endpoints()
    {
        await WithPageAsync(scenario.ReaderKey, "model", async page =>
        {
            await page.ClickAsync("header a:text-is('Models')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/models$");
            (await TextAsync(page, "#models")).ShouldContain("@champion → v1");
            await page.ClickAsync("#models a:text-is('iris')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/models/iris$");
            (await page.Locator("#versions tbody tr").CountAsync()).ShouldBe(3);
            await page.ClickAsync("#versions a:text-is('v1')");
            await DashboardBrowser.ArrivedAsync(page, "\\?version=1$");
            (await TextAsync(page, "#card")).ShouldBe("Model card: iris v1");
            (await TextAsync(page, "#params")).ShouldContain("penalty");
            (await TextAsync(page, "#training-data")).ShouldContain("iris-train");
            var history = await TextAsync(page, "#history");
            history.ShouldContain("Production");
            history.ShouldContain("champion");
            var lineage = page.Locator("#lineage");
            (await lineage.Locator("g.node.dataset").CountAsync()).ShouldBe(1);
            (await lineage.Locator("g.node.run").CountAsync()).ShouldBe(1);
            (await lineage.Locator("g.node.version").CountAsync()).ShouldBe(1);
            // iris, ranker, blend, fraud, checkout, pricing, ledger (and payments until its canary is promoted, signup until its experiment routes all to v2) serve v1.
            (await lineage.Locator("g.node.endpoint title").AllTextContentsAsync()).ShouldBeSubsetOf(["iris", "ranker", "blend", "fraud", "checkout", "pricing", "payments", "ledger", "signup"]);
            (await lineage.Locator("g.node.endpoint title").AllTextContentsAsync()).ShouldContain("checkout");
        });
    }

    [Fact]
    public async Task Runs_are_searched_with_mlflow_filters_compared_and_charted()
    {
        await WithPageAsync(scenario.ReaderKey, "runs", async page =>
        {
            await page.ClickAsync("header a:text-is('Experiments & runs')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/experiments$");
            await page.ClickAsync("#experiments a:text-is('iris-training')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/experiments/");
            var experiment = page.Url;
            (await page.Locator("#runs tbody tr").CountAsync()).ShouldBe(3);
            await page.FillAsync("#filter", "metrics.accuracy > 0.85 and params.penalty = 'l2'");
            await page.FillAsync("#order_by", "metrics.accuracy DESC");
            await page.ClickAsync("form.search button");
            await DashboardBrowser.ArrivedAsync(page, "filter=");
            (await page.Locator("#runs tbody tr td:nth-child(2)").AllInnerTextsAsync()).ShouldBe(["lr-C1.0", "lr-C10"]);
            await DashboardBrowser.ScreenshotAsync(page, "runs-search");

            await page.CheckAsync("#runs tbody tr:nth-child(1) input[type=checkbox]");
            await page.CheckAsync("#runs tbody tr:nth-child(2) input[type=checkbox]");
            await page.ClickAsync("#compare");
            await DashboardBrowser.ArrivedAsync(page, "/ui/runs/compare");
            (await TextAsync(page, "#compare-params")).ShouldContain("differs");
            (await TextAsync(page, "#compare-metrics")).ShouldContain("0.93");
            (await page.Locator("[id='history-accuracy'] polyline.series").CountAsync()).ShouldBe(2);

            var bad = await page.GotoAsync(experiment + "?filter=" + Uri.EscapeDataString("metrics.accuracy >>> 1"));
            bad!.Status.ShouldBe(400);
            (await TextAsync(page, "#search-error")).ShouldNotBeEmpty();
        }, expectedStatuses: [400]);
    }

    [Fact]
    public async Task Pipelines_show_runs_with_the_dag_status_per_step_cached_steps_and_logs()
    {
        await WithPageAsync(scenario.ReaderKey, "pipelines", async page =>
        {
            await page.ClickAsync("header a:text-is('Pipelines')");
            await DashboardBrowser.ArrivedAsync(page, "/ui/pipelines$");
            var runs = page.Locator("#runs-retrain tbody tr");
            (await runs.CountAsync()).ShouldBe(2);
            (await runs.Nth(0).InnerTextAsync()).ShouldContain("prepare: cached", Case.Sensitive, "newest first: the second run came from the cache");
            (await runs.Nth(1).InnerTextAsync()).ShouldContain("prepare: succeeded");

            await runs.Nth(1).Locator("a").ClickAsync();
            await DashboardBrowser.ArrivedAsync(page, "/ui/pipelines/runs/");
            (await page.Locator("#dag g.node.succeeded").CountAsync()).ShouldBe(2);
            (await page.Locator("#dag line.edge").CountAsync()).ShouldBe(1, "train needs prepare");
            (await TextAsync(page, "#log-prepare")).ShouldContain("preparing features");
            await DashboardBrowser.ScreenshotAsync(page, "pipeline-run");

            await page.GoBackAsync();
            await runs.Nth(0).Locator("a").ClickAsync();
            await DashboardBrowser.ArrivedAsync(page, "/ui/pipelines/runs/");
            (await page.Locator("#dag g.node.cached").CountAsync()).ShouldBe(2);
            (await TextAsync(page, "#steps")).ShouldContain("cached from");
        });
    }
}
