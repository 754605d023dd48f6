using System.Text.Json;
using System.Text.Json.Serialization;
using Ballast.Runtime;
using Ballast.Storage;
using Ballast.Tracking;

namespace Ballast.Registry;

/// <summary>
/// The signature as kept in the <c>ballast.signature</c> tag of a model version: V2 metadata's inputs and outputs, and
/// the feature service the model was trained on when it was registered with one (its features are inputs at serving).
/// </summary>
public sealed record SignatureJson(IReadOnlyList<TensorSpecJson> Inputs, IReadOnlyList<TensorSpecJson> Outputs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FeatureService = null)
{
    public static SignatureJson From(ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        return new(signature.Inputs.Select(TensorSpecJson.From).ToList(), signature.Outputs.Select(TensorSpecJson.From).ToList());
    }
}

public sealed record TensorSpecJson(string Name, string Datatype, IReadOnlyList<long> Shape)
{
    public static TensorSpecJson From(TensorSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new(spec.Name, spec.Datatype, spec.Shape);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SignatureJson))]
internal sealed partial class RegistrationJsonContext : JsonSerializerContext;

/// <summary>
/// Registers a model file as a new version: the file must load in its flavor's runtime (its signature is read from
/// it), is stored in the artifact store under the MLflow artifact proxy
/// (<c>mlflow-artifacts:/models/&lt;name&gt;/&lt;sha256 prefix&gt;/model.&lt;ext&gt;</c>, so MLflow clients can download it),
/// and the version carries <c>ballast.flavor</c>, <c>ballast.signature</c> and <c>ballast.sha256</c> tags.
/// The registered model is created on first use.
/// </summary>
public sealed class ModelRegistration(RegistryStore registry, IArtifactStore artifacts)
{
    public const string FlavorTag = "ballast.flavor";
    public const string SignatureTag = "ballast.signature";
    public const string Sha256Tag = "ballast.sha256";
    private const string ProxyPrefix = "mlflow-artifacts";

    /// <summary>The version tag naming the feature service the model was trained on (also in its signature tag and on its card).</summary>
    public const string FeatureServiceTag = "ballast.feature_service";

    /// <summary>
    /// The feature service a version was registered as trained on: its <see cref="FeatureServiceTag"/> tag, else the
    /// signature tag's <c>feature_service</c>; null when none was recorded.
    /// </summary>
    public static string? FeatureServiceOf(ModelVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Tags.FirstOrDefault(tag => tag.Key == FeatureServiceTag)?.Value is { Length: > 0 } tagged)
        {
            return tagged;
        }

        if (version.Tags.FirstOrDefault(tag => tag.Key == SignatureTag)?.Value is not { Length: > 0 } json)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(json, RegistrationJsonContext.Default.SignatureJson)?.FeatureService;
        }
        catch (JsonException)
        {
            return null; // a tag someone set by hand that is not a signature
        }
    }

    /// <summary>The signature recorded in a version's <see cref="SignatureTag"/> at registration; null when there is none (or it is not a signature).</summary>
    public static ModelSignature? SignatureOf(ModelVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Tags.FirstOrDefault(tag => tag.Key == SignatureTag)?.Value is not { Length: > 0 } json)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(json, RegistrationJsonContext.Default.SignatureJson) is { Inputs: not null, Outputs: not null } signature
                ? new ModelSignature(signature.Inputs.Select(input => new TensorSpec(input.Name, input.Datatype, input.Shape)).ToList(),
                    signature.Outputs.Select(output => new TensorSpec(output.Name, output.Datatype, output.Shape)).ToList())
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string SignatureToJson(ModelSignature signature, string? featureService = null) =>
        JsonSerializer.Serialize(SignatureJson.From(signature) with { FeatureService = featureService }, RegistrationJsonContext.Default.SignatureJson);

    /// <summary>Where a <c>mlflow-artifacts:/…</c> source lives in the artifact store, or null for other sources.</summary>
    public static string? StorePathOf(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.StartsWith(ProxyPrefix + ":", StringComparison.Ordinal)
            ? ArtifactPath.Combine(ProxyPrefix, ArtifactPath.Validate(source[(ProxyPrefix.Length + 1)..].TrimStart('/')))
            : null;
    }

    /// <summary>
    /// Registers <paramref name="content"/> as a new version of <paramref name="name"/>; with <paramref name="featureService"/>
    /// (checked by the caller), the version records the feature service it was trained on, in its signature and as the
    /// <see cref="FeatureServiceTag"/> tag the model card shows.
    /// </summary>
    public async Task<ModelVersion> RegisterAsync(string name, Stream content, string fileName, string? flavor = null, string? runId = null, string? description = null,
        string? featureService = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        flavor ??= ModelFlavors.FromFileName(fileName)
                   ?? throw TrackingException.Invalid($"Cannot tell the flavor of '{fileName}' from its name; pass flavor onnx or mlnet.");
        var spool = Path.Combine(Path.GetTempPath(), "ballast-model-" + Guid.NewGuid().ToString("N") + (flavor == ModelFlavors.Onnx ? ".onnx" : ".zip"));
        try
        {
            string sha256;
            await using (var file = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81_920, FileOptions.Asynchronous))
            {
                sha256 = (await ContentAddressing.CopyAndHashAsync(content, file, cancellationToken).ConfigureAwait(false)).Sha256;
            }

            ModelSignature signature;
            try
            {
                using var runtime = ModelFlavors.Load(flavor, spool);
                signature = runtime.Signature;
            }
            catch (ModelLoadException exception)
            {
                throw TrackingException.Invalid($"'{fileName}' was not registered: {exception.Message}");
            }

            var source = $"{ProxyPrefix}:/models/{name}/{sha256[..16]}/model.{(flavor == ModelFlavors.Onnx ? "onnx" : "zip")}";
            await using (var file = new FileStream(spool, FileMode.Open, FileAccess.Read, FileShare.Read, 81_920, FileOptions.Asynchronous))
            {
                await artifacts.PutAsync(StorePathOf(source)!, file, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await registry.GetModelAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (TrackingException exception) when (exception.Code == TrackingException.ResourceDoesNotExist)
            {
                try
                {
                    await registry.CreateModelAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (TrackingException raced) when (raced.Code == TrackingException.ResourceAlreadyExists)
                {
                    // Another registration created it a moment ago.
                }
            }

            // A tag holds 5000 characters; a model with hundreds of inputs keeps its signature in the file only (the runtime reads it).
            var signatureJson = SignatureToJson(signature, featureService);
            List<TrackingTag> tags = [new(FlavorTag, flavor), new(Sha256Tag, sha256)];
            if (featureService is not null)
            {
                tags.Add(new TrackingTag(FeatureServiceTag, featureService));
            }

            if (signatureJson.Length <= 5000)
            {
                tags.Add(new TrackingTag(SignatureTag, signatureJson));
            }

            return await registry.CreateVersionAsync(name, source, runId, tags,
                description: description, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(spool);
        }
    }
}
