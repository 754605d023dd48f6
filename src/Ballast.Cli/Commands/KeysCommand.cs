using System.CommandLine;
using System.Text.Json;
using Ballast.Configuration;
using Ballast.Metadata;
using Ballast.Security;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast keys create|list|revoke</c>. These work on the metadata database directly (same --data-dir or
/// --database as the server), so the first admin key can be made before any server runs; a running server
/// sees new and revoked keys at once. Left to the default data dir, they refuse when it holds no database.
/// </summary>
internal static class KeysCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("keys", "Create, list and revoke API keys.");
        command.Subcommands.Add(CreateKey(output));
        command.Subcommands.Add(ListKeys(output));
        command.Subcommands.Add(RevokeKey(output));
        return command;
    }

    private static Command CreateKey(TextWriter output)
    {
        var (dataDir, database) = (CommonOptions.DataDir(), CommonOptions.Database());
        var name = new Option<string>("--name") { Description = "A unique name for the key (letters, digits, '-', '_', '.').", Required = true };
        var role = new Option<string>("--role") { Description = "reader, writer or admin.", Required = true };
        role.AcceptOnlyFromAmong([.. ApiKeyRoles.Names]);
        var json = CommonOptions.Json();
        var command = new Command("create", "Create an API key and print it once; only its hash is stored.") { name, role, dataDir, database, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (ApiKeyStore.ValidateName(parse.GetValue(name)) is { } problem)
            {
                throw new CommandUsageException(problem);
            }

            if (!ApiKeyRoles.TryParse(parse.GetValue(role), out var parsedRole))
            {
                throw new CommandUsageException($"--role must be one of {string.Join(", ", ApiKeyRoles.Names)}");
            }

            await using var store = await OpenAsync(parse, dataDir, database, cancellationToken).ConfigureAwait(false);
            var created = await new ApiKeyStore(store, TimeProvider.System).CreateAsync(parse.GetValue(name)!, parsedRole, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                var key = created.Key;
                await output.WriteLineAsync(JsonSerializer.Serialize(new CreatedKeyOutput(key.Id, key.Name, key.Role.ToName(), key.CreatedAt, created.Token), CliJsonContext.Default.CreatedKeyOutput)).ConfigureAwait(false);
            }
            else
            {
                await output.WriteLineAsync(created.Token).ConfigureAwait(false);
                await output.WriteLineAsync($"# API key '{created.Key.Name}' ({created.Key.Role.ToName()}). Store it now: it cannot be shown again.").ConfigureAwait(false);
            }

            return BallastCli.Success;
        });
        return command;
    }

    private static Command ListKeys(TextWriter output)
    {
        var (dataDir, database) = (CommonOptions.DataDir(), CommonOptions.Database());
        var json = CommonOptions.Json();
        var all = new Option<bool>("--all") { Description = "Include revoked keys." };
        var command = new Command("list", "List API keys (names, roles, dates; never secrets).") { dataDir, database, json, all };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await OpenAsync(parse, dataDir, database, cancellationToken).ConfigureAwait(false);
            var keys = await new ApiKeyStore(store, TimeProvider.System).ListAsync(parse.GetValue(all), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                var rows = keys.Select(key => new KeyOutput(key.Id, key.Name, key.Role.ToName(), key.CreatedAt, key.RevokedAt)).ToList();
                await output.WriteLineAsync(JsonSerializer.Serialize(rows, CliJsonContext.Default.ListKeyOutput)).ConfigureAwait(false);
                return BallastCli.Success;
            }

            var table = new TextTable("NAME", "ROLE", "ID", "CREATED", "REVOKED");
            foreach (var key in keys)
            {
                table.Add(key.Name, key.Role.ToName(), key.Id, key.CreatedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
                    key.RevokedAt?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "-");
            }

            await table.WriteAsync(output).ConfigureAwait(false);
            return BallastCli.Success;
        });
        return command;
    }

    private static Command RevokeKey(TextWriter output)
    {
        var (dataDir, database) = (CommonOptions.DataDir(), CommonOptions.Database());
        var name = new Argument<string>("name") { Description = "The name of the key to revoke." };
        var command = new Command("revoke", "Revoke an API key; requests with it are refused from then on.") { name, dataDir, database };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await OpenAsync(parse, dataDir, database, cancellationToken).ConfigureAwait(false);
            var keyName = parse.GetValue(name)!;
            if (!await new ApiKeyStore(store, TimeProvider.System).RevokeAsync(keyName, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"There is no live API key named '{keyName}'.");
            }

            await output.WriteLineAsync($"Revoked API key '{keyName}'.").ConfigureAwait(false);
            return BallastCli.Success;
        });
        return command;
    }

    /// <summary>
    /// Opens the server's metadata database, chosen as <c>ballast server</c> chooses it: <c>--database</c>, else the SQLite
    /// file in <c>--data-dir</c> (from <c>BALLAST_DATABASE</c> / <c>BALLAST_DATA_DIR</c>, else <c>./ballast-data</c>).
    /// With none of them given and no database in <c>./ballast-data</c>, it refuses (exit 2) instead of making an empty
    /// store in whatever folder the command ran from, whose keys no server would read. Naming the folder or database
    /// makes the store when it is new, so the first key can still come before the first server.
    /// </summary>
    private static async Task<MetadataDatabase> OpenAsync(ParseResult parse, Option<string> dataDir, Option<string?> database, CancellationToken cancellationToken)
    {
        var options = new BallastOptions { DataDir = parse.GetValue(dataDir)!, Database = parse.GetValue(database) };
        if (!DatabaseLocation.TryParse(options.DatabaseOrDefault, out var location, out var error))
        {
            throw BallastStartupException.InvalidConfiguration([$"--database {error}"]);
        }

        var chosen = options.Database is not null || parse.GetResult(dataDir) is { Implicit: false } || CommonOptions.Environment("BALLAST_DATA_DIR") is not null;
        if (!chosen && !File.Exists(Path.Combine(options.DataDir, BallastDefaults.SqliteFileName)))
        {
            throw new CommandUsageException(
                $"No Ballast store in {Path.GetFullPath(options.DataDir)} (the default --data-dir, {BallastDefaults.DataDir} in the current folder). " +
                "Run the command where the server keeps its data, or name the server's store with --data-dir or --database (BALLAST_DATA_DIR, BALLAST_DATABASE); " +
                "a store named that does not exist yet is created.");
        }

        return await MetadataMigrator.OpenMigratedAsync(location!, cancellationToken).ConfigureAwait(false);
    }
}

internal sealed record KeyOutput(string Id, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

internal sealed record CreatedKeyOutput(string Id, string Name, string Role, DateTimeOffset CreatedAt, string Token);
