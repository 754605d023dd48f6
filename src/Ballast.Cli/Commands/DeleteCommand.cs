using System.CommandLine;
using Ballast.Cli.Manifests;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast delete KIND NAME</c>: deletes a stored object (<c>ballast delete endpoint iris</c>).</summary>
internal static class DeleteCommand
{
    public static Command Create(TextWriter output)
    {
        var client = new ClientOptions();
        var kind = new Argument<string>("kind") { Description = $"What to delete: {string.Join(", ", ManifestKinds.All.Select(known => known.Name.ToLowerInvariant()))}." };
        var name = new Argument<string>("name") { Description = "The object's name." };
        var command = new Command("delete", "Delete a stored object.") { kind, name, client.Url, client.ApiKey };
        command.SetAction(async (parse, cancel) =>
        {
            var manifestKind = ManifestKinds.FromArgument(parse.GetValue(kind)!);
            var target = parse.GetValue(name)!;
            await client.Client(parse).DeleteAsync(manifestKind.ObjectPath(target), cancel).ConfigureAwait(false);
            await output.WriteLineAsync($"{manifestKind.Label(target)}: deleted").ConfigureAwait(false);
            return BallastCli.Success;
        });
        return command;
    }
}
