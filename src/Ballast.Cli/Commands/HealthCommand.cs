using System.CommandLine;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast health [--url URL] [--ready] [--timeout SECONDS]</c>: exit code 0 when the server answers its liveness
/// route (<c>/health</c>) or, with <c>--ready</c>, its readiness route (<c>/v2/health/ready</c>: every routed model is
/// loaded) with a 2xx status; 1 otherwise. For container health checks, where curl may be absent.
/// </summary>
internal static class HealthCommand
{
    public const string LivePath = "/health";
    public const string ReadyPath = "/v2/health/ready";

    public static Command Create(TextWriter output)
    {
        var url = new Option<string>("--url")
        {
            Description = "The Ballast server [env: BALLAST_URL].",
            DefaultValueFactory = _ => CommonOptions.Environment("BALLAST_URL") ?? "http://127.0.0.1:5000",
        };
        var ready = new Option<bool>("--ready") { Description = $"Check readiness ({ReadyPath}) instead of liveness ({LivePath})." };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Seconds to wait for the answer.",
            DefaultValueFactory = _ => 5,
        };
        var command = new Command("health", "Check that a server is alive (or ready, with --ready); exit code 0 if so, 1 if not.") { url, ready, timeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var text = parse.GetValue(url)!;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var baseUri) || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
            {
                throw new CommandUsageException($"--url '{text}' is not an http:// or https:// URL");
            }

            var seconds = parse.GetValue(timeout);
            if (!double.IsFinite(seconds) || seconds <= 0 || seconds > 300)
            {
                throw new CommandUsageException($"--timeout must be between 0 and 300 seconds, not {seconds}");
            }

            var target = new Uri(baseUri, parse.GetValue(ready) ? ReadyPath : LivePath);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(seconds) };
            try
            {
                using var response = await http.GetAsync(target, cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"{target} {(int)response.StatusCode} {body.Trim()}").ConfigureAwait(false);
                return response.IsSuccessStatusCode ? BallastCli.Success : BallastCli.Failure;
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                await output.WriteLineAsync($"{target} unreachable: {exception.Message}").ConfigureAwait(false);
                return BallastCli.Failure;
            }
        });
        return command;
    }
}
