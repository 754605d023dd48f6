using System.CommandLine;
using System.Text.Json;
using Ballast.Client;

namespace Ballast.Cli.Commands;

/// <summary>--url and --api-key of the client commands, and how they print: a table, or the server's JSON as it came (--json).</summary>
internal sealed class ClientOptions
{
    public Option<string> Url { get; } = new("--url")
    {
        Description = "The Ballast server [env: BALLAST_URL].",
        DefaultValueFactory = _ => CommonOptions.Environment("BALLAST_URL") ?? "http://127.0.0.1:5000",
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "API key sent as a bearer token [env: BALLAST_API_KEY].",
        DefaultValueFactory = _ => CommonOptions.Environment("BALLAST_API_KEY"),
    };

    public Option<bool> Json { get; } = CommonOptions.Json();

    public Command AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(ApiKey);
        command.Options.Add(Json);
        return command;
    }

    public BallastClient Client(ParseResult parse)
    {
        var url = parse.GetValue(Url)!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CommandUsageException($"--url '{url}' is not an http:// or https:// URL");
        }

        return BallastClient.Create(uri, parse.GetValue(ApiKey));
    }

    /// <summary>Prints the JSON as the server sent it, or the table built from it.</summary>
    public async Task<int> PrintAsync(ParseResult parse, TextWriter output, JsonElement json, Func<JsonElement, TextTable> table)
    {
        if (parse.GetValue(Json))
        {
            await output.WriteLineAsync(json.GetRawText()).ConfigureAwait(false);
        }
        else
        {
            await table(json).WriteAsync(output).ConfigureAwait(false);
        }

        return BallastCli.Success;
    }

    /// <summary>--page-size of the list commands, which follow the server's page tokens to the end of the list.</summary>
    public static Option<int> PageSize() => new("--page-size")
    {
        Description = "Items asked for in each request; the command follows the server's page tokens, so this never shortens the list.",
        DefaultValueFactory = _ => BallastClient.DefaultPageSize,
        Validators = { result => { if (result.GetValueOrDefault<int>() < 1) { result.AddError("--page-size must be at least 1."); } } },
    };

    /// <summary>The largest page the lists paged by id (a monitor's windows, a rollout's analyses) serve.</summary>
    public const int MaxBeforePage = 500;

    /// <summary>--limit of a list read a page at a time: how many items, newest first (default 20).</summary>
    public static Option<int> Limit(string description) => new("--limit")
    {
        Description = description + " Read a page at a time, so it may exceed the server's page size.",
        DefaultValueFactory = _ => 20,
        Validators = { result => { if (result.GetValueOrDefault<int>() < 1) { result.AddError("--limit must be at least 1."); } } },
    };

    /// <summary>--limit of a list read to the end unless given: at most this many items, newest first.</summary>
    public static Option<int?> OptionalLimit(string description) => new("--limit")
    {
        Description = description,
        Validators = { result => { if (result.GetValueOrDefault<int?>() is < 1) { result.AddError("--limit must be at least 1."); } } },
    };

    /// <summary><paramref name="path"/> with the parameters that have a value as its query (escaped, in the order given), or the path alone when none has.</summary>
    public static string WithQuery(string path, params (string Name, string? Value)[] parameters)
    {
        var query = string.Join("&", parameters.Where(parameter => parameter.Value is not null).Select(parameter => $"{parameter.Name}={Uri.EscapeDataString(parameter.Value!)}"));
        return query.Length == 0 ? path : $"{path}?{query}";
    }

    public static string Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.Null or JsonValueKind.Undefined => "",
            _ => value.GetRawText(),
        } : "";

    public static IEnumerable<JsonElement> Items(JsonElement element, string property) =>
        element.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray() : [];

    public static string Time(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.TryGetInt64(out var ms) && ms > 0
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("u", System.Globalization.CultureInfo.InvariantCulture)
            : "-";
}
