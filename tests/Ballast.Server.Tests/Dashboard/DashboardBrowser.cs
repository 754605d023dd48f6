using Microsoft.Playwright;

namespace Ballast.Tests.Dashboard;

/// <summary>
/// Debian's Chromium driven by Playwright (its own browser download is not used: scripts/test.sh installs the apt
/// package). Every page a test opens records console errors and failed page scripts; screenshots go to
/// <c>dashboard-screenshots/</c> beside the test binaries, kept as test artifacts.
/// </summary>
public sealed class DashboardBrowser : IAsyncDisposable
{
    private readonly IPlaywright _playwright;

    private DashboardBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");

    /// <summary>The Chromium executable: <c>BALLAST_CHROMIUM</c>, else Debian's. Outside CI a missing browser skips the test; in CI it fails it.</summary>
    public static string ChromiumPath()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("BALLAST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" };
        var found = candidates.FirstOrDefault(path => !string.IsNullOrWhiteSpace(path) && File.Exists(path));
        if (found is not null)
        {
            return found;
        }

        const string message = "Chromium is not installed (apt package 'chromium', or set BALLAST_CHROMIUM): run the dashboard tests through ./scripts/test.sh, which installs it.";
        if (TestServices.InCi)
        {
            Assert.Fail(message);
        }

        Assert.Skip(message);
        return "";
    }

    public static async Task<DashboardBrowser> LaunchAsync()
    {
        var path = ChromiumPath();
        var playwright = await Playwright.CreateAsync();
        try
        {
            // --no-sandbox: the tests may run as root (containers), where Chromium's sandbox refuses to start.
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = path, Headless = true, Args = ["--no-sandbox", "--disable-gpu"] });
            return new DashboardBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh browser context (no cookies) with one page whose console errors are collected in <paramref name="errors"/>.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> NewPageAsync(List<string> errors)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (errors)
                {
                    errors.Add($"{message.Location}: {message.Text}");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add("page error: " + error);
            }
        };
        return (context, page);
    }

    /// <summary>
    /// Waits until the page's document is at an address matching <paramref name="url"/> (a regular expression, read by
    /// JavaScript) and has loaded, both checked in the page in one evaluation, which Playwright repeats across
    /// navigations. Not <see cref="IPage.WaitForURLAsync(Func{string, bool}, PageWaitForURLOptions?)"/>: when the
    /// address already matches, it looks at the load events it has been told of and then subscribes to the next one,
    /// and in some full runs the load event came between the two, so the wait saw only network idle and timed out.
    /// </summary>
    public static async Task ArrivedAsync(IPage page, string url) =>
        await page.WaitForFunctionAsync("url => new RegExp(url).test(location.href) && document.readyState === 'complete'", url, new PageWaitForFunctionOptions { PollingInterval = 50 });

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
