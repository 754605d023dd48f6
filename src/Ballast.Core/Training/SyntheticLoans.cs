using System.Globalization;
using System.Text;

namespace Ballast.Training;

/// <summary>One synthetic loan application and whether it defaulted.</summary>
public sealed record LoanApplication(
    string ApplicationId,
    DateTime AppliedAt,
    float Income,
    float DebtRatio,
    float CreditScore,
    float LoanAmount,
    float YearsEmployed,
    string Employment,
    string Purpose,
    string Region,
    bool Defaulted);

/// <summary>
/// Seeded synthetic loan applications for tests and <c>ballast demo</c>: numeric and categorical features and a
/// default label drawn from a logistic model of them. The normal regime is driven by the debt ratio and the credit
/// score (plus unemployment and business loans). <c>shift: true</c> is a new regime: incomes fall, debt ratios and loan
/// sizes rise, more applicants are self-employed or contractors (covariate shift), and defaults now follow the loan
/// size against income and self-employment while the credit score barely matters (concept shift), so a model trained
/// on the old regime loses accuracy and one retrained on the new data recovers it.
/// </summary>
public static class SyntheticLoans
{
    public const string Label = "defaulted";
    public const string Segment = "region";
    public const string TimeColumn = "applied_at";
    public const string Id = "application_id";

    public static readonly DateTime DefaultStart = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly string[] Employments = ["salaried", "self_employed", "contractor", "unemployed"];
    private static readonly string[] Purposes = ["home", "car", "education", "business"];
    private static readonly string[] Regions = ["north", "south", "east", "west"];

    /// <summary>
    /// <paramref name="rows"/> applications, one every <paramref name="interval"/> (10 minutes by default) from
    /// <paramref name="start"/>; the same arguments always give the same rows.
    /// </summary>
    public static IReadOnlyList<LoanApplication> Generate(int rows, int seed, bool shift = false, DateTime? start = null, TimeSpan? interval = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        var random = new Random(seed);
        var from = start ?? DefaultStart;
        var step = interval ?? TimeSpan.FromMinutes(10);
        var applications = new List<LoanApplication>(rows);
        for (var i = 0; i < rows; i++)
        {
            var employment = Pick(random, Employments, shift ? [0.40, 0.30, 0.22, 0.08] : [0.65, 0.15, 0.15, 0.05]);
            var purpose = Pick(random, Purposes, [0.35, 0.30, 0.15, 0.20]);
            var region = Pick(random, Regions, [0.25, 0.25, 0.25, 0.25]);
            var income = (float)Math.Round(Math.Exp(Normal(random, shift ? 10.85 : 11.0, 0.35)), 0);
            var debtRatio = (float)Math.Round(Math.Clamp(Normal(random, shift ? 0.40 : 0.30, 0.12), 0.01, 0.95), 3);
            var creditScore = (float)Math.Round(Math.Clamp(Normal(random, shift ? 650 : 680, 60), 300, 850), 0);
            var loanAmount = (float)Math.Round(income * Math.Clamp(Normal(random, shift ? 0.55 : 0.35, 0.18), 0.05, 1.5), 0);
            var yearsEmployed = employment == "unemployed" ? 0f : (float)Math.Round(-6 * Math.Log(1 - random.NextDouble()), 1);

            var zDebt = (debtRatio - 0.30) / 0.12;
            var zCredit = (creditScore - 680) / 60.0;
            var zLoanToIncome = (loanAmount / income - 0.35) / 0.18;
            var logit = shift
                ? -1.6 + 2.6 * zLoanToIncome + 1.6 * (employment is "self_employed" or "contractor" ? 1 : 0) - 0.2 * zCredit + 1.0 * (employment == "unemployed" ? 1 : 0)
                : -0.8 + 2.4 * zDebt - 2.4 * zCredit + 1.2 * (employment == "unemployed" ? 1 : 0) + 0.5 * (purpose == "business" ? 1 : 0) - 0.05 * yearsEmployed;
            var defaulted = random.NextDouble() < 1 / (1 + Math.Exp(-logit));
            applications.Add(new LoanApplication(
                string.Create(CultureInfo.InvariantCulture, $"{(shift ? "b" : "a")}{seed}-{i:D6}"), from + i * step,
                income, debtRatio, creditScore, loanAmount, yearsEmployed, employment, purpose, region, defaulted));
        }

        return applications;
    }

    /// <summary>Writes applications as a CSV with a header (snake_case columns; applied_at as ISO 8601 UTC).</summary>
    public static void WriteCsv(string path, IEnumerable<LoanApplication> applications)
    {
        ArgumentNullException.ThrowIfNull(applications);
        var csv = new StringBuilder("application_id,applied_at,income,debt_ratio,credit_score,loan_amount,years_employed,employment,purpose,region,defaulted\n");
        foreach (var a in applications)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{a.ApplicationId},{a.AppliedAt:yyyy-MM-dd HH:mm:ss},{a.Income},{a.DebtRatio},{a.CreditScore},{a.LoanAmount},{a.YearsEmployed},{a.Employment},{a.Purpose},{a.Region},{(a.Defaulted ? "true" : "false")}\n");
        }

        File.WriteAllText(path, csv.ToString());
    }

    private static double Normal(Random random, double mean, double deviation)
    {
        // Box-Muller: two uniforms give one standard normal.
        var u1 = 1 - random.NextDouble();
        var u2 = random.NextDouble();
        return mean + deviation * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static string Pick(Random random, string[] values, double[] weights)
    {
        var u = random.NextDouble();
        for (var i = 0; i < values.Length - 1; i++)
        {
            u -= weights[i];
            if (u < 0)
            {
                return values[i];
            }
        }

        return values[^1];
    }
}
