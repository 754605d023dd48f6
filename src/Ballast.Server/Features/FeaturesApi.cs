using System.Globalization;
using System.Text.Json;
using Ballast.Features;
using Ballast.Server.Security;
using Ballast.Server.Serialization;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Ballast.Server.Features;

/// <summary>A stored feature set: its spec's fields, and its revision and times (Unix ms).</summary>
public sealed record FeatureSetResponse(
    string Name,
    IReadOnlyList<EntitySpec>? Entities,
    IReadOnlyList<FeatureViewSpec>? Views,
    IReadOnlyList<FeatureServiceSpec>? Services,
    string? Description,
    long Revision,
    long CreatedAt,
    long UpdatedAt)
{
    public static FeatureSetResponse From(StoredFeatureSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var spec = set.Spec;
        return new FeatureSetResponse(spec.Name, spec.Entities, spec.Views, spec.Services, spec.Description, set.Revision, set.CreatedAt, set.UpdatedAt);
    }
}

public sealed record FeatureSetListResponse(IReadOnlyList<FeatureSetResponse> FeatureSets);

/// <summary>One entity's online features: name → value (missing ones left out and listed in <see cref="Missing"/>).</summary>
public sealed record OnlineFeaturesResponse(string Service, string Entity, IReadOnlyDictionary<string, JsonElement> Features, IReadOnlyList<string> Missing);

/// <summary>
/// The batch lookup: a service and up to <see cref="FeaturesApi.MaxBatchEntities"/> entity keys, strings or numbers
/// (an int64 entity's keys are read as a training set reads them: <c>1</c>, <c>1.0</c> and <c>"1"</c> are one key).
/// </summary>
public sealed record OnlineFeaturesRequest(string? Service, IReadOnlyList<JsonElement>? Entities);

public sealed record OnlineFeaturesBatchResponse(string Service, IReadOnlyList<OnlineFeaturesResponse> Rows);

/// <summary>Materialize up to <see cref="Until"/> (RFC 3339 time; now when left out) the named views (all when left out).</summary>
public sealed record MaterializeRequest(string? Until = null, IReadOnlyList<string>? Views = null);

public sealed record MaterializeResponse(long Until, IReadOnlyList<MaterializationResult> Views);

/// <summary>
/// <c>/api/v1/features</c>: feature sets (entities, views, services), online lookups, materialization, point-in-time
/// training sets and the online/offline consistency check.
/// </summary>
public static class FeaturesApi
{
    public const int MaxBatchEntities = 10_000;
    public const int MaxConsistencySample = 100_000;

    // Keys a refused batch lookup names before "…".
    private const int MaxKeyProblems = 5;

    /// <summary>Set names that would hide a route of this API.</summary>
    public static IReadOnlyList<string> ReservedNames { get; } = ["online", "materialize", "training-set", "consistency"];

    private static readonly Gauge SkewRate = Metrics.CreateGauge("ballast_feature_skew_rate",
        "Share of sampled entities whose online features differ from an offline recomputation, by service (last consistency check).",
        new GaugeConfiguration { LabelNames = ["service"] });

    private static readonly Counter MaterializedRows = Metrics.CreateCounter("ballast_feature_materialized_rows_total",
        "Rows materialization changed in the online store, by view.", new CounterConfiguration { LabelNames = ["view"] });

    private static readonly Counter SkippedRows = Metrics.CreateCounter("ballast_feature_skipped_rows_total",
        "Stream rows materialization skipped because their entity key is none of the entity's (an int64 entity's 1.5), by view; a stream's last minutes are read again by the next run, so a row may count in two.",
        new CounterConfiguration { LabelNames = ["view"] });

    public static IEndpointRouteBuilder MapFeaturesApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/features").WithTags("Features");
        group.MapGet("/", async (FeatureStore sets, CancellationToken cancellationToken) =>
            TypedResults.Ok(new FeatureSetListResponse((await sets.ListAsync(cancellationToken).ConfigureAwait(false)).Select(FeatureSetResponse.From).ToList())))
            .WithSummary("Every feature set with its entities, views and services.").RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}", async (string name, FeatureStore sets, CancellationToken cancellationToken) =>
            TypedResults.Ok(FeatureSetResponse.From(await sets.GetAsync(name, cancellationToken).ConfigureAwait(false))))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapPut("/{name}", async Task<Results<Ok<FeatureSetResponse>, Created<FeatureSetResponse>>> (string name, FeatureSetSpec spec, FeatureStore sets, CancellationToken cancellationToken) =>
        {
            BodyValidation.CheckNamedByPath("feature set", spec.Name, name);

            if (ReservedNames.Contains(name))
            {
                throw TrackingException.Invalid($"Invalid feature set name '{name}': {string.Join(", ", ReservedNames)} are routes of /api/v1/features; choose another name.");
            }

            var (stored, changed) = await sets.PutAsync(spec with { Name = name }, cancellationToken).ConfigureAwait(false);
            var response = FeatureSetResponse.From(stored);
            return changed && stored.Revision == 1 ? TypedResults.Created($"/api/v1/features/{name}", response) : TypedResults.Ok(response);
        }).WithSummary("Creates or replaces a feature set (the revision moves only when it changes).").RequireAuthorization(BallastPolicies.Writer)
            .WithMetadata(BodyValidation.NamedByPath<FeatureSetSpec>("feature set", spec => spec.Name, (spec, name) => spec with { Name = name }, (spec, _) => FeatureSetValidation.Validate(spec)));
        group.MapDelete("/{name}", async Task<Results<NoContent, NotFound>> (string name, FeatureStore sets, CancellationToken cancellationToken) =>
            await sets.DeleteAsync(name, cancellationToken).ConfigureAwait(false)
                ? TypedResults.NoContent()
                : throw TrackingException.NotFound($"Feature set '{name}' does not exist."))
            .RequireAuthorization(BallastPolicies.Writer);

        group.MapGet("/online", async (string? service, string? entity, FeatureStore sets, FeatureLookup lookup, CancellationToken cancellationToken) =>
        {
            var resolved = sets.Catalog.Service(Required(service, "service"));
            var text = Required(entity, "entity");
            var key = EntityKeys.TryNormalize(resolved.Entity, text, out var normalized, out var reason)
                ? normalized
                : throw TrackingException.Invalid($"entity '{text}' is not a key of entity '{resolved.Entity.Name}' ({resolved.Entity.Type} join key '{resolved.JoinKey}'): {reason}.");
            var row = (await lookup.GetAsync(resolved, [key], cancellationToken).ConfigureAwait(false))[0];
            return TypedResults.Ok(Response(resolved, row));
        }).WithSummary("One entity's features of a service from the online store (values past their view's TTL are missing).").RequireAuthorization(BallastPolicies.Reader);
        group.MapPost("/online", async (OnlineFeaturesRequest request, FeatureStore sets, FeatureLookup lookup, CancellationToken cancellationToken) =>
        {
            var entities = request.Entities ?? [];
            if (entities.Count is 0 or > MaxBatchEntities)
            {
                throw TrackingException.Invalid($"entities must list between 1 and {MaxBatchEntities} non-empty entity keys, not {entities.Count}.");
            }

            var resolved = sets.Catalog.Service(Required(request.Service, "service"));

            var keys = new string[entities.Count];
            var problems = new List<string>();
            for (var i = 0; i < entities.Count; i++)
            {
                if (EntityKeys.TryNormalize(resolved.Entity, entities[i], out var key, out var reason))
                {
                    keys[i] = key;
                }
                else
                {
                    problems.Add($"entities[{i}] {EntityKeys.Describe(entities[i])}: {reason}");
                }
            }

            if (problems.Count > 0)
            {
                var more = problems.Count > MaxKeyProblems ? $"; and {problems.Count - MaxKeyProblems} more" : "";
                throw TrackingException.Invalid($"entities holds values that are not keys of entity '{resolved.Entity.Name}' ({resolved.Entity.Type} join key '{resolved.JoinKey}'): {string.Join("; ", problems.Take(MaxKeyProblems))}{more}.");
            }

            var rows = await lookup.GetAsync(resolved, keys, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new OnlineFeaturesBatchResponse(resolved.Name, rows.Select(row => Response(resolved, row)).ToList()));
        }).WithSummary("Many entities' features of a service in one call, in the order asked.").RequireAuthorization(BallastPolicies.Reader);

        group.MapPost("/materialize", async (MaterializeRequest? request, FeatureMaterializer materializer, TimeProvider time, CancellationToken cancellationToken) =>
        {
            var until = request?.Until is { } text ? ParseTime(text, "until") : time.GetUtcNow().ToUnixTimeMilliseconds();
            var results = await materializer.MaterializeAsync(until, request?.Views, cancellationToken).ConfigureAwait(false);
            Count(results);
            // The views that could be materialized were; the refusal names the others and why.
            return results.Where(result => result.Error is not null).ToList() is { Count: > 0 } failed
                ? throw TrackingException.Invalid($"{results.Count - failed.Count} of {results.Count} views materialized; failed: {string.Join("; ", failed.Select(result => $"{result.View}: {result.Error!.TrimEnd('.')}"))}.")
                : TypedResults.Ok(new MaterializeResponse(until, results));
        }).WithSummary("Copies the latest values up to `until` from the offline store into the online store, incrementally.").RequireAuthorization(BallastPolicies.Writer);

        group.MapPost("/training-set", TrainingSetAsync)
            .WithSummary("Point-in-time correct training set: POST the entity rows (CSV, TSV or Parquet body), get Parquet back.")
            .RequireAuthorization(BallastPolicies.Reader);

        group.MapPost("/consistency", async (string? service, int? sample, int? seed, FeatureStore sets, FeatureConsistency consistency, CancellationToken cancellationToken) =>
        {
            var resolved = sets.Catalog.Service(Required(service, "service"));
            if (sample is < 1 or > MaxConsistencySample)
            {
                throw TrackingException.Invalid($"sample must be between 1 and {MaxConsistencySample}, not {sample}.");
            }

            var report = await consistency.CheckAsync(resolved, sample ?? 100, seed ?? 0, cancellationToken).ConfigureAwait(false);
            SkewRate.WithLabels(resolved.Name).Set(report.SkewRate);
            return TypedResults.Ok(report);
        }).WithSummary("Compares online values with an offline recomputation for a sample of entities; sets ballast_feature_skew_rate.")
            .RequireAuthorization(BallastPolicies.Reader);
        return routes;
    }

    internal static void Count(IEnumerable<MaterializationResult> results)
    {
        foreach (var result in results)
        {
            MaterializedRows.WithLabels(result.View).Inc(result.Changed);
            if (result.SkippedRows > 0)
            {
                SkippedRows.WithLabels(result.View).Inc(result.SkippedRows);
            }
        }
    }

    private static async Task<FileStreamHttpResult> TrainingSetAsync(HttpContext http, string? service, string? timestampColumn, FeatureStore sets, OfflineStore offline,
        CancellationToken cancellationToken)
    {
        var resolved = sets.Catalog.Service(Required(service, "service"));
        var mediaType = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        var name = mediaType switch
        {
            "text/csv" => "entities.csv",
            "text/tab-separated-values" => "entities.tsv",
            "application/vnd.apache.parquet" or "application/x-parquet" => "entities.parquet",
            _ => throw TrackingException.Invalid($"Content type '{http.Request.ContentType}' is not supported; send the entity rows as text/csv, text/tab-separated-values or application/vnd.apache.parquet."),
        };
        var folder = Directory.CreateTempSubdirectory("ballast-training-set-").FullName;
        var output = Path.Combine(folder, "train.parquet");
        try
        {
            // The upload goes to disk as it arrives; DuckDB reads it from there and spills the join if it must.
            var entities = Path.Combine(folder, name);
            await using (var file = new FileStream(entities, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81_920, FileOptions.Asynchronous))
            {
                await http.Request.Body.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }

            TrainingSetResult result;
            try
            {
                result = await offline.TrainingSetAsync(resolved, entities, name, output, timestampColumn, cancellationToken).ConfigureAwait(false);
            }
            catch (DuckDB.NET.Data.DuckDBException exception) when (exception.ErrorType is DuckDB.NET.Native.DuckDBErrorType.Conversion or DuckDB.NET.Native.DuckDBErrorType.InvalidInput
                or DuckDB.NET.Native.DuckDBErrorType.Invalid or DuckDB.NET.Native.DuckDBErrorType.Binder or DuckDB.NET.Native.DuckDBErrorType.Parser)
            {
                // The uploaded rows, not the server: a timestamp that is not one, a text key for an int64 entity, a file
                // that is not the format its content type says.
                throw TrackingException.Invalid($"The entity rows could not be joined: {exception.Message.Split('\n')[0].Trim()}");
            }

            File.Delete(entities);
            http.Response.Headers["Ballast-Rows"] = result.Rows.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["Ballast-Sources"] = string.Join(",", result.Sources);
            var stream = new FileStream(output, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81_920, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
            http.Response.RegisterForDispose(new FolderRemoval(folder));
            return TypedResults.Stream(stream, "application/vnd.apache.parquet", $"{resolved.Name}-training-set.parquet");
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    private static OnlineFeaturesResponse Response(ResolvedService service, FeatureRow row)
    {
        var features = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        for (var i = 0; i < service.Features.Count; i++)
        {
            if (row.Values[i] is { } value)
            {
                features[service.Features[i].Name] = value;
            }
        }

        return new OnlineFeaturesResponse(service.Name, row.Entity, features, row.Missing);
    }

    private static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value) ? throw TrackingException.Invalid($"The query parameter (or field) '{name}' is required.") : value;

    private static long ParseTime(string text, string name) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at.ToUnixTimeMilliseconds()
            : throw TrackingException.Invalid($"{name} '{text}' is not a time; write it as RFC 3339, e.g. 2026-12-01T00:00:00Z.");

    /// <summary>Removes the training set's scratch folder once the response has been sent.</summary>
    private sealed class FolderRemoval(string folder) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // The Parquet stream deletes its file on close; an emptied folder left behind is harmless.
            }
        }
    }
}
