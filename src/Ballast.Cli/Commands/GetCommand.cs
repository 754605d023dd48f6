using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Cli.Manifests;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast get KIND [NAME] [-o table|yaml|json]</c>: stored objects as a table, or as a manifest that
/// <c>ballast apply -f</c> takes back unchanged (YAML documents, or JSON: one object, or an array of them).
/// </summary>
internal static class GetCommand
{
    public static Command Create(TextWriter output)
    {
        var client = new ClientOptions();
        var kind = new Argument<string>("kind") { Description = $"What to list: {string.Join(", ", ManifestKinds.All.Select(known => known.Plural))}." };
        var name = new Argument<string?>("name") { Description = "One object (default: all of them).", Arity = ArgumentArity.ZeroOrOne };
        var format = new Option<string>("--output", "-o")
        {
            Description = "table, yaml (a manifest for apply -f) or json (the same as JSON).",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "yaml", "json");
        var command = new Command("get", "Show stored objects as a table or as a manifest.") { kind, name, format, client.Url, client.ApiKey };
        command.SetAction(async (parse, cancel) =>
        {
            var manifestKind = ManifestKinds.FromArgument(parse.GetValue(kind)!);
            var api = client.Client(parse);
            var one = parse.GetValue(name);
            var answers = one is null
                ? manifestKind.Items(await api.GetJsonAsync(manifestKind.Collection, cancel).ConfigureAwait(false))
                : [await api.GetJsonAsync(manifestKind.ObjectPath(one), cancel).ConfigureAwait(false)];
            switch (parse.GetValue(format))
            {
                case "yaml":
                    await output.WriteAsync(ManifestYaml.Write(answers.Select(manifestKind.Manifest))).ConfigureAwait(false);
                    break;
                case "json":
                    JsonNode manifests = one is null ? new JsonArray([.. answers.Select(manifestKind.Manifest)]) : manifestKind.Manifest(answers[0]);
                    await output.WriteLineAsync(manifests.ToJsonString(Indented)).ConfigureAwait(false);
                    break;
                default:
                    await manifestKind.Table(answers).WriteAsync(output).ConfigureAwait(false);
                    break;
            }

            return BallastCli.Success;
        });
        return command;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
