namespace Ballast.Runtime;

/// <summary>The model formats Ballast serves, and how a file of each is loaded.</summary>
public static class ModelFlavors
{
    public const string Onnx = "onnx";
    public const string MlNet = "mlnet";

    /// <summary>A model served by another server speaking V2 (a remote variant); never a registered file.</summary>
    public const string Remote = "remote";

    /// <summary>The flavor a file name suggests (<c>.onnx</c>, an ML.NET <c>.zip</c>), or null.</summary>
    public static string? FromFileName(string fileName) =>
        Path.GetExtension(fileName).Equals(".onnx", StringComparison.OrdinalIgnoreCase) ? Onnx
        : Path.GetExtension(fileName).Equals(".zip", StringComparison.OrdinalIgnoreCase) ? MlNet
        : null;

    /// <summary>Loads a model file of <paramref name="flavor"/>; throws <see cref="ModelLoadException"/> with the loader's reason.</summary>
    public static IModelRuntime Load(string flavor, string path) => flavor switch
    {
        Onnx => OnnxModelRuntime.Load(path),
        MlNet => MlNetModelRuntime.Load(path),
        _ => throw new ModelLoadException($"unknown flavor '{flavor}': use onnx or mlnet"),
    };
}
