using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Client;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast data add|get|list|show|diff</c>: versioned datasets. <c>add</c> hashes each file locally, uploads only
/// what the server lacks (streamed, so memory stays flat for any size) and posts the manifest; <c>get</c> writes the
/// exact bytes of a version back, checking every file's SHA-256 on the way.
/// </summary>
internal static class DataCommand
{
    private const string Api = "/api/v1/datasets";

    public static Command Create(TextWriter output)
    {
        var command = new Command("data", "Version datasets (DVC semantics) and inspect their profiles.");
        command.Subcommands.Add(Add(output));
        command.Subcommands.Add(Get(output));
        command.Subcommands.Add(List(output));
        command.Subcommands.Add(Show(output));
        command.Subcommands.Add(Diff(output));
        return command;
    }

    private static Command Add(TextWriter output)
    {
        var options = new ClientOptions();
        var path = new Argument<string>("path") { Description = "A file, or a folder (every file below it)." };
        var name = new Option<string>("--name") { Description = "The dataset, e.g. churn.", Required = true };
        var message = new Option<string?>("--message", "-m") { Description = "What changed, kept with the version." };
        var add = options.AddTo(new Command("add", "Add a file or folder as a new version of a dataset (the same bytes give back the existing version).") { path, name, message });
        add.SetAction(async (parse, cancel) =>
        {
            var json = await AddVersionAsync(options.Client(parse), parse.GetValue(name)!, parse.GetValue(path)!, parse.GetValue(message), cancel).ConfigureAwait(false);
            if (parse.GetValue(options.Json))
            {
                await output.WriteLineAsync(json.GetRawText()).ConfigureAwait(false);
                return BallastCli.Success;
            }

            var version = json.GetProperty("version");
            var reference = $"{ClientOptions.Text(version, "name")}@{ClientOptions.Text(version, "version")}";
            await output.WriteLineAsync(json.GetProperty("created").GetBoolean()
                ? $"{reference} added: {Summary(version)}"
                : $"{reference} unchanged: it already holds these exact files ({Summary(version)})").ConfigureAwait(false);
            return BallastCli.Success;
        });
        return add;
    }

    private static Command Get(TextWriter output)
    {
        var options = new ClientOptions();
        var reference = new Argument<string>("dataset") { Description = "name@version (or name, or name@latest)." };
        var into = new Option<string>("--output", "-o") { Description = "The folder to write the files into.", Required = true };
        var get = options.AddTo(new Command("get", "Write the exact files of a dataset version into a folder.") { reference, into });
        get.SetAction(async (parse, cancel) =>
        {
            var client = options.Client(parse);
            var version = await client.GetJsonAsync(VersionPath(parse.GetValue(reference)!), cancel).ConfigureAwait(false);
            var folder = Path.GetFullPath(parse.GetValue(into)!);
            foreach (var file in ClientOptions.Items(version, "files"))
            {
                var relative = ClientOptions.Text(file, "path");
                var sha256 = ClientOptions.Text(file, "sha256");
                var target = Path.GetFullPath(Path.Combine(folder, relative));
                if (!target.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"The manifest's path '{relative}' points outside {folder}; refusing to write it.");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                // A file whose bytes do not hash to the manifest's SHA-256 fails the write, so nothing is kept.
                await PartialFile.WriteAsync(target, async stream =>
                {
                    using var hash = SHA256.Create();
                    await using (var hashing = new CryptoStream(stream, hash, CryptoStreamMode.Write, leaveOpen: true))
                    {
                        await client.DownloadAsync($"{Api}/blobs/{sha256}", hashing, cancel).ConfigureAwait(false);
                    }

                    var actual = Convert.ToHexStringLower(hash.Hash!);
                    if (actual != sha256)
                    {
                        throw new InvalidOperationException($"'{relative}' arrived with SHA-256 {actual}, not {sha256}; nothing was kept. Try again.");
                    }
                }).ConfigureAwait(false);
            }

            var name = $"{ClientOptions.Text(version, "name")}@{ClientOptions.Text(version, "version")}";
            await output.WriteLineAsync(parse.GetValue(options.Json)
                ? new JsonObject { ["dataset"] = name, ["output"] = folder, ["files"] = ClientOptions.Items(version, "files").Count() }.ToJsonString()
                : $"{name} -> {folder} ({Summary(version)})").ConfigureAwait(false);
            return BallastCli.Success;
        });
        return get;
    }

    private static Command List(TextWriter output)
    {
        var options = new ClientOptions();
        var list = options.AddTo(new Command("list", "List datasets with their newest version."));
        list.SetAction(async (parse, cancel) =>
        {
            var json = await options.Client(parse).GetJsonAsync(Api, cancel).ConfigureAwait(false);
            return await options.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("NAME", "LATEST", "VERSIONS", "UPDATED");
                foreach (var dataset in ClientOptions.Items(body, "datasets"))
                {
                    table.Add(ClientOptions.Text(dataset, "name"), ClientOptions.Text(dataset, "latest_version"), ClientOptions.Text(dataset, "version_count"), ClientOptions.Time(dataset, "updated_at"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        return list;
    }

    private static Command Show(TextWriter output)
    {
        var options = new ClientOptions();
        var reference = new Argument<string>("dataset") { Description = "name (its versions) or name@version (that version's files and profile)." };
        var show = options.AddTo(new Command("show", "Show a dataset's versions, or one version's files and column profile.") { reference });
        show.SetAction(async (parse, cancel) =>
        {
            var text = parse.GetValue(reference)!;
            var client = options.Client(parse);
            if (!text.Contains('@', StringComparison.Ordinal))
            {
                var versions = await client.GetJsonAsync($"{Api}/{Uri.EscapeDataString(text)}/versions", cancel).ConfigureAwait(false);
                return await options.PrintAsync(parse, output, versions, body =>
                {
                    var table = new TextTable("VERSION", "CREATED", "BY", "FILES", "SIZE", "ROWS", "DIGEST", "MESSAGE");
                    foreach (var version in ClientOptions.Items(body, "versions"))
                    {
                        table.Add(ClientOptions.Text(version, "version"), ClientOptions.Time(version, "created_at"), ClientOptions.Text(version, "created_by"),
                            ClientOptions.Text(version, "file_count"), Bytes(version.GetProperty("size_bytes").GetInt64()), ClientOptions.Text(version, "row_count"),
                            ClientOptions.Text(version, "digest")[..12], ClientOptions.Text(version, "message"));
                    }

                    return table;
                }).ConfigureAwait(false);
            }

            var json = await client.GetJsonAsync(VersionPath(text), cancel).ConfigureAwait(false);
            if (parse.GetValue(options.Json))
            {
                await output.WriteLineAsync(json.GetRawText()).ConfigureAwait(false);
                return BallastCli.Success;
            }

            await output.WriteLineAsync($"{ClientOptions.Text(json, "name")}@{ClientOptions.Text(json, "version")}  {Summary(json)}  digest {ClientOptions.Text(json, "digest")}").ConfigureAwait(false);
            if (ClientOptions.Text(json, "message") is { Length: > 0 } note)
            {
                await output.WriteLineAsync(note).ConfigureAwait(false);
            }

            await output.WriteLineAsync().ConfigureAwait(false);
            var files = new TextTable("FILE", "SIZE", "SHA256");
            foreach (var file in ClientOptions.Items(json, "files"))
            {
                files.Add(ClientOptions.Text(file, "path"), Bytes(file.GetProperty("size").GetInt64()), ClientOptions.Text(file, "sha256"));
            }

            await files.WriteAsync(output).ConfigureAwait(false);
            foreach (var table in ClientOptions.Items(json.GetProperty("profile"), "tables"))
            {
                await output.WriteLineAsync().ConfigureAwait(false);
                await output.WriteLineAsync($"{ClientOptions.Text(table, "path")} ({ClientOptions.Text(table, "format")}, {ClientOptions.Text(table, "rows")} rows)").ConfigureAwait(false);
                if (ClientOptions.Text(table, "error") is { Length: > 0 } error)
                {
                    await output.WriteLineAsync("  not profiled: " + error).ConfigureAwait(false);
                    continue;
                }

                var columns = new TextTable("COLUMN", "TYPE", "NULLS", "DISTINCT", "MIN", "MEAN", "MAX", "TOP");
                foreach (var column in ClientOptions.Items(table, "columns"))
                {
                    columns.Add(ClientOptions.Text(column, "name"), ClientOptions.Text(column, "type"), ClientOptions.Text(column, "nulls"), ClientOptions.Text(column, "distinct"),
                        Number(column, "min") ?? ClientOptions.Text(column, "earliest"), Number(column, "mean") ?? "", Number(column, "max") ?? ClientOptions.Text(column, "latest"),
                        string.Join(" ", ClientOptions.Items(column, "top_values").Take(3).Select(value => $"{ClientOptions.Text(value, "value")}:{ClientOptions.Text(value, "count")}")));
                }

                await columns.WriteAsync(output).ConfigureAwait(false);
            }

            return BallastCli.Success;
        });
        return show;
    }

    private static Command Diff(TextWriter output)
    {
        var options = new ClientOptions();
        var from = new Argument<string>("from") { Description = "The earlier version, e.g. churn@2." };
        var to = new Argument<string>("to") { Description = "The later version, e.g. churn@3." };
        var diff = options.AddTo(new Command("diff", "What changed between two versions: files, schema, column statistics.") { from, to });
        diff.SetAction(async (parse, cancel) =>
        {
            var json = await options.Client(parse).GetJsonAsync(
                $"{Api}/diff?from={Uri.EscapeDataString(parse.GetValue(from)!)}&to={Uri.EscapeDataString(parse.GetValue(to)!)}", cancel).ConfigureAwait(false);
            if (parse.GetValue(options.Json))
            {
                await output.WriteLineAsync(json.GetRawText()).ConfigureAwait(false);
                return BallastCli.Success;
            }

            await output.WriteLineAsync($"{ClientOptions.Text(json, "from")} -> {ClientOptions.Text(json, "to")}").ConfigureAwait(false);
            if (json.GetProperty("identical").GetBoolean())
            {
                await output.WriteLineAsync("identical: the same files, byte for byte").ConfigureAwait(false);
                return BallastCli.Success;
            }

            foreach (var (property, mark) in new[] { ("files_added", "+"), ("files_removed", "-"), ("files_changed", "~") })
            {
                foreach (var file in ClientOptions.Items(json, property))
                {
                    await output.WriteLineAsync($"{mark} {file.GetString()}").ConfigureAwait(false);
                }
            }

            foreach (var table in ClientOptions.Items(json, "tables"))
            {
                await output.WriteLineAsync().ConfigureAwait(false);
                var name = ClientOptions.Text(table, "from_path") == ClientOptions.Text(table, "to_path")
                    ? ClientOptions.Text(table, "to_path") : $"{ClientOptions.Text(table, "from_path")} -> {ClientOptions.Text(table, "to_path")}";
                await output.WriteLineAsync($"{name}: rows {ClientOptions.Text(table, "rows_before")} -> {ClientOptions.Text(table, "rows_after")}").ConfigureAwait(false);
                foreach (var column in ClientOptions.Items(table, "columns_added"))
                {
                    await output.WriteLineAsync($"  + column {ClientOptions.Text(column, "name")} {ClientOptions.Text(column, "type")}").ConfigureAwait(false);
                }

                foreach (var column in ClientOptions.Items(table, "columns_removed"))
                {
                    await output.WriteLineAsync($"  - column {ClientOptions.Text(column, "name")} {ClientOptions.Text(column, "type")}").ConfigureAwait(false);
                }

                foreach (var change in ClientOptions.Items(table, "type_changes"))
                {
                    await output.WriteLineAsync($"  ~ column {ClientOptions.Text(change, "name")} type {ClientOptions.Text(change, "from")} -> {ClientOptions.Text(change, "to")}").ConfigureAwait(false);
                }

                var stats = new TextTable("  COLUMN", "STAT", "FROM", "TO");
                foreach (var change in ClientOptions.Items(table, "column_changes"))
                {
                    foreach (var stat in ClientOptions.Items(change, "stats"))
                    {
                        stats.Add("  " + ClientOptions.Text(change, "name"), ClientOptions.Text(stat, "stat"), Number(stat, "from") ?? "-", Number(stat, "to") ?? "-");
                    }
                }

                await stats.WriteAsync(output).ConfigureAwait(false);
            }

            return BallastCli.Success;
        });
        return diff;
    }

    /// <summary>
    /// Adds a file or folder as a version of dataset <paramref name="name"/>: hashes each file locally, uploads only the
    /// blobs the server lacks, then posts the manifest. Returns the server's answer (<c>{"created", "version"}</c>).
    /// </summary>
    internal static async Task<JsonElement> AddVersionAsync(BallastClient client, string name, string path, string? message, CancellationToken cancel)
    {
        var manifest = new JsonArray();
        foreach (var (relative, full) in Enumerate(Path.GetFullPath(path)))
        {
            string sha256;
            long size;
            await using (var stream = OpenRead(full))
            {
                size = stream.Length;
                sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancel).ConfigureAwait(false));
            }

            if (!await client.HasBlobAsync(sha256, cancel).ConfigureAwait(false))
            {
                await using var upload = OpenRead(full);
                await client.PutBlobAsync(sha256, upload, cancel).ConfigureAwait(false);
            }

            manifest.Add(new JsonObject { ["path"] = relative, ["size"] = size, ["sha256"] = sha256 });
        }

        var body = new JsonObject { ["files"] = manifest, ["message"] = message };
        return await client.PostJsonAsync($"{Api}/{Uri.EscapeDataString(name)}/versions", body, cancel).ConfigureAwait(false);
    }

    /// <summary>The files to add with their paths inside the dataset: the file itself, or every file below the folder.</summary>
    private static List<(string Relative, string Full)> Enumerate(string root)
    {
        if (File.Exists(root))
        {
            return [(Path.GetFileName(root), root)];
        }

        if (!Directory.Exists(root))
        {
            throw new CommandUsageException($"There is no file or folder at {root}.");
        }

        var files = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(full => (Path.GetRelativePath(root, full).Replace(Path.DirectorySeparatorChar, '/'), full))
            .OrderBy(file => file.Item1, StringComparer.Ordinal)
            .ToList();
        return files.Count > 0 ? files : throw new InvalidOperationException($"The folder {root} holds no files.");
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81_920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    internal static string VersionPath(string reference)
    {
        var at = reference.LastIndexOf('@');
        var (name, version) = at < 0 ? (reference, "latest") : (reference[..at], reference[(at + 1)..]);
        return $"{Api}/{Uri.EscapeDataString(name)}/versions/{Uri.EscapeDataString(version.Length == 0 ? "latest" : version)}";
    }

    private static string Summary(JsonElement version)
    {
        var rows = version.TryGetProperty("row_count", out var count) && count.ValueKind == JsonValueKind.Number ? string.Create(CultureInfo.InvariantCulture, $", {count.GetInt64():N0} rows") : "";
        return $"{ClientOptions.Text(version, "file_count")} file(s), {Bytes(version.GetProperty("size_bytes").GetInt64())}{rows}".Replace('\u00A0', ' ');
    }

    private static string? Number(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble().ToString("G6", CultureInfo.InvariantCulture)
            : null;

    private static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:0.##} GiB"),
    };
}
