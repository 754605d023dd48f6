using System.Globalization;
using System.Text;
using Ballast.Training;

namespace Ballast.Tests.Training;

/// <summary>Small seeded training files for the three tasks, written from <see cref="SyntheticLoans"/> (nothing downloaded).</summary>
public static class TrainingData
{
    /// <summary>Loans with the binary label <c>defaulted</c> (the generator's own CSV).</summary>
    public static string Binary(string folder, string name, int rows, int seed, bool shift = false)
    {
        var path = Path.Combine(folder, name);
        SyntheticLoans.WriteCsv(path, SyntheticLoans.Generate(rows, seed, shift));
        return path;
    }

    /// <summary>
    /// Loans with a multiclass <c>tier</c> (low, medium, high: the credit score and debt ratio with noise) and a free-text
    /// <c>note</c> whose words lean towards the tier, for FeaturizeText.
    /// </summary>
    public static string Multiclass(string folder, string name, int rows, int seed)
    {
        var random = new Random(seed + 1000);
        var csv = new StringBuilder("income,debt_ratio,credit_score,employment,purpose,region,note,tier\n");
        foreach (var a in SyntheticLoans.Generate(rows, seed))
        {
            var risk = (a.DebtRatio - 0.30) / 0.12 - (a.CreditScore - 680) / 60.0 + Normal(random) * 0.5;
            var tier = risk < -0.7 ? "low" : risk < 0.7 ? "medium" : "high";
            var note = (tier, random.Next(3)) switch
            {
                ("low", 0) => "long stable history",
                ("high", 0) => "missed payments recently",
                (_, 1) => "first application",
                _ => "no remarks",
            };
            csv.Append(CultureInfo.InvariantCulture, $"{a.Income},{a.DebtRatio},{a.CreditScore},{a.Employment},{a.Purpose},{a.Region},{note},{tier}\n");
        }

        var path = Path.Combine(folder, name);
        System.IO.File.WriteAllText(path, csv.ToString());
        return path;
    }

    /// <summary>Loans with a regression label <c>loan_amount</c>, proportional to income with noise.</summary>
    public static string Regression(string folder, string name, int rows, int seed)
    {
        var csv = new StringBuilder("income,debt_ratio,credit_score,years_employed,employment,region,loan_amount\n");
        foreach (var a in SyntheticLoans.Generate(rows, seed))
        {
            csv.Append(CultureInfo.InvariantCulture, $"{a.Income},{a.DebtRatio},{a.CreditScore},{a.YearsEmployed},{a.Employment},{a.Region},{a.LoanAmount}\n");
        }

        var path = Path.Combine(folder, name);
        System.IO.File.WriteAllText(path, csv.ToString());
        return path;
    }

    public static TrainingSpec Spec(string task, string trainer, IReadOnlyDictionary<string, double>? hyperparameters = null) => task switch
    {
        TrainingTasks.Binary => new TrainingSpec
        {
            Label = SyntheticLoans.Label, Task = task, Trainer = trainer, Seed = 3, Exclude = [SyntheticLoans.Id],
            Hyperparameters = hyperparameters ?? Small(trainer),
        },
        TrainingTasks.Multiclass => new TrainingSpec
        {
            Label = "tier", Task = task, Trainer = trainer, Seed = 3, TextColumns = ["note"], MaxOneHotCategories = 3,
            Hyperparameters = hyperparameters ?? Small(trainer),
        },
        _ => new TrainingSpec { Label = "loan_amount", Task = task, Trainer = trainer, Seed = 3, Hyperparameters = hyperparameters ?? Small(trainer) },
    };

    /// <summary>Few trees and iterations: quick on two shared cores.</summary>
    public static Dictionary<string, double> Small(string trainer) => trainer switch
    {
        TrainerNames.FastTree or TrainerNames.LightGbm => new() { ["num_trees"] = 20, ["num_leaves"] = 8, ["min_examples_per_leaf"] = 10 },
        _ => new() { ["max_iterations"] = 50 },
    };

    public static string File(string task, string folder, string name, int rows, int seed) => task switch
    {
        TrainingTasks.Binary => Binary(folder, name, rows, seed),
        TrainingTasks.Multiclass => Multiclass(folder, name, rows, seed),
        _ => Regression(folder, name, rows, seed),
    };

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
