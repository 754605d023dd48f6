using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

// The 10-input model of bench/serving (issue 10: "a 10-input mixed string/float pipeline model"): an ML.NET pipeline
// (one-hot encoding of five string columns, five float columns, mean-variance normalization, logistic regression)
// trained on seeded synthetic loan applications (one thread) and exported to ONNX: every run gives the same model.
// Usage: MixedModel OUTPUT.onnx
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: MixedModel OUTPUT.onnx");
    return 2;
}

var ml = new MLContext(seed: 7);
var data = ml.Data.LoadFromEnumerable(Loans.Generate(new Random(7), 4000));
string[] categorical = [nameof(Loan.region), nameof(Loan.channel), nameof(Loan.purpose), nameof(Loan.employment), nameof(Loan.housing)];
string[] numeric = [nameof(Loan.income), nameof(Loan.amount), nameof(Loan.term_months), nameof(Loan.age), nameof(Loan.debt_ratio)];
var pipeline = ml.Transforms.Categorical.OneHotEncoding([.. categorical.Select(name => new InputOutputColumnPair(name + "_onehot", name))])
    .Append(ml.Transforms.Concatenate("Features", [.. categorical.Select(name => name + "_onehot"), .. numeric]))
    .Append(ml.Transforms.NormalizeMeanVariance("Features"))
    .Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options { LabelColumnName = nameof(Loan.Label), NumberOfThreads = 1 }));
var model = pipeline.Fit(data);
var metrics = ml.BinaryClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(Loans.Generate(new Random(8), 1000))), nameof(Loan.Label));
using (var file = File.Create(args[0]))
{
    // Exported against the features alone, so that the label is not one of the model's inputs.
    ml.Model.ConvertToOnnx(model, ml.Data.LoadFromEnumerable<LoanFeatures>(Loans.Generate(new Random(9), 10)), file, "PredictedLabel", "Probability");
}

Console.WriteLine($"wrote {args[0]}: 10 inputs, held-out AUC {metrics.AreaUnderRocCurve:F3}");
return 0;

internal static class Loans
{
    private static readonly string[] Regions = ["north", "south", "east", "west", "centre", "coast", "mountain", "islands"];
    private static readonly string[] Channels = ["web", "branch", "phone", "partner"];
    private static readonly string[] Purposes = ["car", "home", "education", "business", "medical", "other"];
    private static readonly string[] Employments = ["salaried", "self", "contract", "unemployed", "retired"];
    private static readonly string[] Housings = ["own", "rent", "mortgage", "other"];

    public static IEnumerable<Loan> Generate(Random random, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var loan = new Loan
            {
                region = Regions[random.Next(Regions.Length)],
                channel = Channels[random.Next(Channels.Length)],
                purpose = Purposes[random.Next(Purposes.Length)],
                employment = Employments[random.Next(Employments.Length)],
                housing = Housings[random.Next(Housings.Length)],
                income = (float)Math.Round(20_000 + (random.NextDouble() * 120_000)),
                amount = (float)Math.Round(1_000 + (random.NextDouble() * 49_000)),
                term_months = 12 * random.Next(1, 8),
                age = random.Next(18, 80),
                debt_ratio = (float)Math.Round(random.NextDouble() * 0.8, 3),
            };
            var risk = -1.5 + (3 * loan.debt_ratio) + (loan.amount / loan.income) - (loan.age / 100.0)
                + (loan.employment == "unemployed" ? 1.5 : loan.employment == "contract" ? 0.5 : 0)
                + (loan.housing == "own" ? -0.5 : 0) + (loan.purpose == "business" ? 0.4 : 0) + (loan.channel == "partner" ? 0.3 : 0);
            loan.Label = random.NextDouble() < 1 / (1 + Math.Exp(-risk));
            yield return loan;
        }
    }
}

// Column names as the model's inputs (and a request's V2 input names) spell them.
#pragma warning disable CA1707, IDE1006, SA1300
internal class LoanFeatures
{
    public string region { get; set; } = "";
    public string channel { get; set; } = "";
    public string purpose { get; set; } = "";
    public string employment { get; set; } = "";
    public string housing { get; set; } = "";
    public float income { get; set; }
    public float amount { get; set; }
    public float term_months { get; set; }
    public float age { get; set; }
    public float debt_ratio { get; set; }
}

internal sealed class Loan : LoanFeatures
{
    public bool Label { get; set; }
}
#pragma warning restore CA1707, IDE1006, SA1300
