using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Ballast.Cli.Manifests;

/// <summary>
/// A kind of object that manifests describe (<c>kind: Endpoint</c>): where it lives in the control API, which fields a
/// manifest of it may hold, and how a stored object compares with a manifest.
/// </summary>
internal abstract class ManifestKind
{
    /// <summary>The name written in manifests (matched case-insensitively).</summary>
    public abstract string Name { get; }

    /// <summary>The name of a collection in <c>ballast get</c> and <c>ballast delete</c> (the singular works too).</summary>
    public abstract string Plural { get; }

    /// <summary>The control API route of the collection; an object is <c>{Collection}/{name}</c>, written with PUT.</summary>
    public abstract string Collection { get; }

    /// <summary>The fields a manifest may hold (the body of the PUT), checked before anything is sent.</summary>
    public abstract JsonTypeInfo Spec { get; }

    public string Label(string name) => $"{Name.ToLowerInvariant()}/{name}";

    public string ObjectPath(string name) => $"{Collection}/{Uri.EscapeDataString(name)}";

    /// <summary>The objects of the collection's list answer.</summary>
    public abstract IReadOnlyList<JsonElement> Items(JsonElement list);

    /// <summary>The manifest fields of a stored object, from the server's answer, in the order people write them.</summary>
    public abstract JsonObject Stored(JsonElement answer);

    /// <summary>
    /// A manifest's fields as the server would store them (its defaults filled in), to compare with <see cref="Stored"/>;
    /// when the server would refuse them, the fields as written and the reason in <paramref name="problem"/>.
    /// </summary>
    public abstract JsonObject Normalize(JsonObject spec, out string? problem);

    /// <summary>
    /// Objects a manifest names that must exist for the server to take it (a monitor's endpoint), as a description and
    /// the control API path that answers 404 when it does not; <c>apply --dry-run</c> checks them.
    /// </summary>
    public virtual IEnumerable<(string What, string Path)> References(JsonObject spec) => [];

    /// <summary>
    /// What is wrong with a referenced object that does exist, for this manifest (an alert rule's metric that its monitor
    /// does not report); <paramref name="referenced"/> is the object's stored fields, or those of the manifest earlier in
    /// the file that creates it. Null when nothing is.
    /// </summary>
    public virtual string? CheckReference(JsonObject spec, string path, JsonObject referenced) => null;

    /// <summary>
    /// Where the server checks a manifest as a PUT would apply it, storing nothing (its models loaded: what only the
    /// server knows), for <c>apply --dry-run</c>; null when this kind has no such route.
    /// </summary>
    public virtual string? DryRunPath(string name) => null;

    /// <summary>Why the object would not work once applied, from the server's dry-run answer; null when it would.</summary>
    public virtual string? DryRunProblem(JsonElement answer) => null;

    /// <summary>What a person wants to know after a write: the revision, and why the object does not work yet.</summary>
    public abstract string Summary(JsonElement answer);

    public abstract TextTable Table(IEnumerable<JsonElement> answers);

    /// <summary>
    /// The spec fields of <paramref name="source"/> in the spec's declaration order (the order people write them, kept
    /// by `get -o yaml`), without nulls and without what <see cref="Keeps"/> refuses. Taken from the JSON contract, so
    /// a field added to the spec is never dropped on its way through apply and get.
    /// </summary>
    protected JsonObject Project(JsonObject source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var projected = new JsonObject();
        foreach (var field in ManifestFields.Settable(Spec).Select(property => property.Name))
        {
            if (source.TryGetPropertyValue(field, out var value) && value is not null && Keeps(field, value))
            {
                projected[field] = value.DeepClone();
            }
        }

        return projected;
    }

    /// <summary>Whether a non-null field of a stored object is part of its manifest (a kind leaves out what the server stores as an empty default).</summary>
    protected virtual bool Keeps(string field, JsonNode value) => true;

    /// <summary>
    /// <see cref="Normalize"/> for a kind whose spec the server validates with <paramref name="validate"/>: that
    /// validation fills the defaults the server stores, so a left-out default is no change.
    /// </summary>
    protected JsonObject Normalize<T>(JsonObject spec, JsonTypeInfo<T> type, Func<T, T> validate, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(validate);
        try
        {
            var parsed = spec.Deserialize(type) ?? throw new JsonException("The manifest is empty.");
            problem = null;
            return Project(JsonSerializer.SerializeToNode(validate(parsed), type)!.AsObject());
        }
        catch (Exception exception) when (exception is JsonException or Ballast.Tracking.TrackingException or InvalidOperationException)
        {
            // A value of the wrong type in the words the server answers it with, not the .NET type it would have become.
            problem = exception is JsonException json && Ballast.Server.Serialization.JsonValueMismatch.Describe(json, JsonSerializer.SerializeToElement(spec, ManifestJsonContext.Default.JsonObject), type) is { } mismatch
                ? mismatch
                : exception.Message;
            return Project(spec);
        }
    }

    /// <summary>A manifest of a stored object that <c>ballast apply -f</c> takes back unchanged.</summary>
    public JsonObject Manifest(JsonElement answer)
    {
        var manifest = new JsonObject { ["kind"] = Name };
        foreach (var (key, value) in Stored(answer))
        {
            manifest[key] = value?.DeepClone();
        }

        return manifest;
    }
}
