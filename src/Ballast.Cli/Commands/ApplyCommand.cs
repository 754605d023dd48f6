using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Cli.Manifests;
using Ballast.Client;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast apply -f FILE [--dry-run]</c>: makes the server hold the objects a manifest describes. It first prints what
/// changes for each object (compared with what the server stores, its defaults filled in), then writes them in order
/// with PUT, which is idempotent; the server validates, and its refusal stops the run.
/// </summary>
internal static class ApplyCommand
{
    public static Command Create(TextWriter output)
    {
        var client = new ClientOptions();
        var file = new Option<string>("--filename", "-f")
        {
            Description = "A YAML or JSON manifest; several objects as YAML documents (---) or a JSON array; '-' reads standard input.",
            Required = true,
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would change and change nothing." };
        var command = new Command("apply", $"Create or update the objects of a manifest ({ManifestKinds.Known}), showing what changes first.")
        {
            file, dryRun, client.Url, client.ApiKey,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var manifests = await ManifestReader.ReadAsync(parse.GetValue(file)!, Console.In, cancel).ConfigureAwait(false);
            var api = client.Client(parse);
            var plans = new List<Plan>();
            foreach (var manifest in manifests)
            {
                var before = await FindAsync(api, manifest.Kind.ObjectPath(manifest.Name), cancel).ConfigureAwait(false);
                var current = before is { } stored ? manifest.Kind.Stored(stored) : null;
                var desired = manifest.Kind.Normalize(manifest.Spec, out var problem);
                problem ??= await MissingReferencesAsync(api, manifest, plans, cancel).ConfigureAwait(false);
                if (problem is null && parse.GetValue(dryRun))
                {
                    problem = await ServerDryRunAsync(api, manifest, cancel).ConfigureAwait(false);
                }

                plans.Add(new Plan(manifest, current, ManifestDiff.Compare(current, desired), problem));
            }

            var dry = parse.GetValue(dryRun);
            foreach (var plan in plans)
            {
                if (plan.Problem is not null)
                {
                    // Compared before the defaults are filled in, the fields would show changes that are not real ones.
                    await output.WriteLineAsync($"{plan.Manifest.Label}: invalid\n  ! {plan.Problem}").ConfigureAwait(false);
                }
                else if (plan.Changes.Count > 0 || dry)
                {
                    await output.WriteLineAsync($"{plan.Manifest.Label}: {(plan.Current is null ? "to create" : plan.Changes.Count > 0 ? "to change" : "unchanged")}").ConfigureAwait(false);
                    foreach (var line in plan.Changes)
                    {
                        await output.WriteLineAsync(line).ConfigureAwait(false);
                    }
                }
            }

            return dry ? await SummarizeAsync(plans, output).ConfigureAwait(false) : await ApplyAsync(api, plans, output, cancel).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> SummarizeAsync(List<Plan> plans, TextWriter output)
    {
        var valid = plans.Where(plan => plan.Problem is null).ToList();
        int create = valid.Count(plan => plan.Current is null), change = valid.Count(plan => plan.Current is not null && plan.Changes.Count > 0);
        var refused = plans.Where(plan => plan.Problem is not null).Select(plan => $"{plan.Manifest.Label}: would be refused: {plan.Problem}").ToList();
        await output.WriteLineAsync($"dry run: {create} to create, {change} to change, {valid.Count - create - change} unchanged{(refused.Count > 0 ? $", {refused.Count} invalid" : "")}; nothing was applied").ConfigureAwait(false);
        // The server would refuse these (it validates with the same rules): say so now rather than at the real run.
        // Joined without the full stops that end the ones before the last; the line ends as the last one does.
        return refused.Count == 0 ? BallastCli.Success
            : throw new InvalidOperationException(refused.Count == 1 ? refused[0] : $"{ProblemList.Join(refused[..^1])}; {refused[^1]}");
    }

    private static async Task<int> ApplyAsync(BallastClient api, List<Plan> plans, TextWriter output, CancellationToken cancel)
    {
        for (var i = 0; i < plans.Count; i++)
        {
            var (manifest, current, _, _) = plans[i];
            JsonElement after;
            try
            {
                after = await api.PutJsonAsync(manifest.Kind.ObjectPath(manifest.Name), manifest.Spec, cancel).ConfigureAwait(false);
            }
            catch (BallastApiException refusal)
            {
                var applied = i == 0 ? "" : $" ({i} of {plans.Count} applied before it)";
                throw new BallastApiException(refusal.Status, refusal.Code, $"{manifest.Label}: {refusal.Message}{applied}");
            }

            // What the server did, from what it stores now (a PUT of an unchanged spec keeps the revision).
            var outcome = current is null ? "created" : JsonNode.DeepEquals(current, manifest.Kind.Stored(after)) ? "unchanged" : "changed";
            await output.WriteLineAsync($"{manifest.Label}: {outcome} ({manifest.Kind.Summary(after)})").ConfigureAwait(false);
        }

        return BallastCli.Success;
    }

    /// <summary>
    /// What the manifest names that neither exists on the server nor comes earlier in the file (applied first), and
    /// what is wrong with what it names (<see cref="ManifestKind.CheckReference"/>), every one of them; null when there
    /// is nothing. The server refuses such a manifest: a dry run says so too.
    /// </summary>
    private static async Task<string?> MissingReferencesAsync(BallastClient api, Manifest manifest, List<Plan> earlier, CancellationToken cancel)
    {
        var missing = new List<string>();
        foreach (var (what, path) in manifest.Kind.References(manifest.Spec))
        {
            // The manifest earlier in the file is what the server will hold when this one is applied.
            var referenced = earlier.LastOrDefault(plan => plan.Manifest.Kind.ObjectPath(plan.Manifest.Name) == path) is { } plan
                ? plan.Manifest.Kind.Normalize(plan.Manifest.Spec, out _)
                : await FindAsync(api, path, cancel).ConfigureAwait(false) is { } stored ? JsonObject.Create(stored) : null;
            if (referenced is null)
            {
                missing.Add($"{what} does not exist");
            }
            else if (manifest.Kind.CheckReference(manifest.Spec, path, referenced) is { } problem)
            {
                missing.Add(problem);
            }
        }

        return missing.Count == 0 ? null : ProblemList.Join(missing);
    }

    /// <summary>
    /// What the server says of the manifest when it checks it as a PUT would apply it, storing nothing (an endpoint's
    /// models loaded, their inputs against its expectations): its refusal, or why the object would not work; null when
    /// nothing is wrong, or the kind (or an older server, which answers 404 or 405) has no dry run.
    /// </summary>
    private static async Task<string?> ServerDryRunAsync(BallastClient api, Manifest manifest, CancellationToken cancel)
    {
        if (manifest.Kind.DryRunPath(manifest.Name) is not { } path)
        {
            return null;
        }

        try
        {
            return manifest.Kind.DryRunProblem(await api.PostJsonAsync(path, manifest.Spec, cancel).ConfigureAwait(false));
        }
        catch (BallastApiException older) when (older.Status == HttpStatusCode.MethodNotAllowed
            || (older.Status == HttpStatusCode.NotFound && older.Message.StartsWith("No route matches", StringComparison.Ordinal)))
        {
            return null;
        }
        catch (BallastApiException refusal) when ((int)refusal.Status is >= 400 and < 500)
        {
            return refusal.Message;
        }
    }

    /// <summary>The stored object, or null when there is none yet.</summary>
    private static async Task<JsonElement?> FindAsync(BallastClient api, string path, CancellationToken cancel)
    {
        try
        {
            return await api.GetJsonAsync(path, cancel).ConfigureAwait(false);
        }
        catch (BallastApiException missing) when (missing.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private sealed record Plan(Manifest Manifest, JsonObject? Current, IReadOnlyList<string> Changes, string? Problem);
}
