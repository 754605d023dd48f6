namespace Ballast.Runtime;

/// <summary>Checks inputs against a model's signature, with messages that say what was expected and what came.</summary>
public static class SignatureCheck
{
    public static void Inputs(ModelSignature signature, IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(inputs);
        var given = new HashSet<string>(StringComparer.Ordinal);
        Tensor? batched = null;
        foreach (var input in inputs)
        {
            var spec = signature.Inputs.FirstOrDefault(spec => spec.Name == input.Name)
                       ?? throw new ModelInputException($"unknown input '{input.Name}'; the model takes {Describe(signature.Inputs)}");
            if (!given.Add(input.Name))
            {
                throw new ModelInputException($"input '{input.Name}' is given twice");
            }

            if (input.Datatype != spec.Datatype || input.Shape.Length != spec.Shape.Count
                || input.Shape.Where((dimension, i) => spec.Shape[i] >= 0 && spec.Shape[i] != dimension).Any() || input.Shape.Any(dimension => dimension < 0))
            {
                throw new ModelInputException($"input '{input.Name}': expected {spec}, got {input.Describe()}");
            }

            if (Tensor.ElementCount(input.Shape) != input.Data.Length)
            {
                throw new ModelInputException($"input '{input.Name}': shape [{string.Join(",", input.Shape)}] holds {Tensor.ElementCount(input.Shape)} values, got {input.Data.Length}");
            }

            // Inputs whose first dimension is the batch's (any size) describe the same rows.
            if (spec.Shape is [-1, ..])
            {
                if (batched is null)
                {
                    batched = input;
                }
                else if (batched.Shape[0] != input.Shape[0])
                {
                    throw new ModelInputException($"input '{input.Name}' has {Rows(input.Shape[0])}, input '{batched.Name}' {batched.Shape[0]}: every input needs the same number of rows");
                }
            }
        }

        var missing = signature.Inputs.Where(spec => !given.Contains(spec.Name)).ToList();
        if (missing.Count > 0)
        {
            throw new ModelInputException($"missing input{(missing.Count > 1 ? "s" : "")} {Describe(missing)}");
        }
    }

    public static void Outputs(ModelSignature signature, IReadOnlyCollection<string>? outputs)
    {
        ArgumentNullException.ThrowIfNull(signature);
        foreach (var name in outputs ?? [])
        {
            if (signature.Outputs.All(spec => spec.Name != name))
            {
                throw new ModelInputException($"unknown output '{name}'; the model gives {Describe(signature.Outputs)}");
            }
        }
    }

    private static string Rows(long count) => count == 1 ? "1 row" : $"{count} rows";

    private static string Describe(IEnumerable<TensorSpec> specs) => string.Join(", ", specs.Select(spec => $"'{spec.Name}' ({spec})"));
}
