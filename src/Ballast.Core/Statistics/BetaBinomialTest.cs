using MathNet.Numerics;

namespace Ballast.Statistics;

/// <summary>
/// Bayesian comparison of two conversion rates with conjugate Beta priors: the posteriors are
/// Beta(α + successes, β + failures), and the chance to win and expected losses are their exact integrals,
/// P(pt &gt; pc) = ∫ f_c(x) (1 − F_t(x)) dx and
/// E[max(pc − pt, 0)] = ∫ f_t(y) [μc (1 − I_y(αc + 1, βc)) − y (1 − I_y(αc, βc))] dy,
/// integrated numerically over the region that holds the posteriors' mass. Equal to Evan Miller's closed form
/// ("Formulas for Bayesian A/B Testing") for integer parameters, and valid for any prior.
/// </summary>
public static class BetaBinomialTest
{
    /// <summary>The uniform prior Beta(1, 1).</summary>
    public const double UniformPrior = 1;

    public static BayesianResult Analyze(
        long controlSuccesses,
        long controlTrials,
        long treatmentSuccesses,
        long treatmentTrials,
        double priorAlpha = UniformPrior,
        double priorBeta = UniformPrior)
    {
        if (!(priorAlpha > 0 && priorBeta > 0))
        {
            throw new ArgumentException($"the Beta prior's parameters must be positive (got {priorAlpha}, {priorBeta}).");
        }

        var control = Posterior.Of(controlSuccesses, controlTrials, priorAlpha, priorBeta, "control");
        var treatment = Posterior.Of(treatmentSuccesses, treatmentTrials, priorAlpha, priorBeta, "treatment");
        var (from, to) = Span(control, treatment);

        var chanceToWin = Integrate(x => control.Density(x) * treatment.Survival(x), from, to);
        var lossTreatment = Integrate(
            y => treatment.Density(y) * (control.Mean * (1 - control.ShiftedCdf(y)) - y * (1 - control.Cdf(y))), from, to);
        // E[max(t − c, 0)] = E[t − c] + E[max(c − t, 0)].
        var lossControl = treatment.Mean - control.Mean + lossTreatment;
        return new BayesianResult(Math.Clamp(chanceToWin, 0, 1), Math.Max(0, lossControl), Math.Max(0, lossTreatment));
    }

    /// <summary>The interval outside which both posteriors have negligible mass (mean ± 14 sd, within [0, 1]).</summary>
    private static (double From, double To) Span(Posterior a, Posterior b) =>
        (Math.Max(0, Math.Min(a.Mean - 14 * a.StandardDeviation, b.Mean - 14 * b.StandardDeviation)),
         Math.Min(1, Math.Max(a.Mean + 14 * a.StandardDeviation, b.Mean + 14 * b.StandardDeviation)));

    private static double Integrate(Func<double, double> f, double from, double to) =>
        MathNet.Numerics.Integrate.DoubleExponential(f, from, to, 1e-13);

    private readonly record struct Posterior(double Alpha, double Beta, double LogBeta)
    {
        public static Posterior Of(long successes, long trials, double priorAlpha, double priorBeta, string group)
        {
            if (trials < 0 || successes < 0 || successes > trials)
            {
                throw new ArgumentException($"{group}: successes must be between 0 and trials (got {successes} of {trials}).");
            }

            var (alpha, beta) = (priorAlpha + successes, priorBeta + trials - successes);
            return new Posterior(alpha, beta, SpecialFunctions.BetaLn(alpha, beta));
        }

        public double Mean => Alpha / (Alpha + Beta);

        public double StandardDeviation => Math.Sqrt(Alpha * Beta / ((Alpha + Beta) * (Alpha + Beta) * (Alpha + Beta + 1)));

        public double Density(double x) => x <= 0 || x >= 1
            ? 0
            : Math.Exp((Alpha - 1) * Math.Log(x) + (Beta - 1) * Math.Log(1 - x) - LogBeta);

        public double Cdf(double x) => x <= 0 ? 0 : x >= 1 ? 1 : SpecialFunctions.BetaRegularized(Alpha, Beta, x);

        public double Survival(double x) => x <= 0 ? 1 : x >= 1 ? 0 : SpecialFunctions.BetaRegularized(Beta, Alpha, 1 - x);

        /// <summary>I_x(α + 1, β): with μ, the partial first moment ∫₀ˣ y f(y) dy = μ I_x(α + 1, β).</summary>
        public double ShiftedCdf(double x) => x <= 0 ? 0 : x >= 1 ? 1 : SpecialFunctions.BetaRegularized(Alpha + 1, Beta, x);
    }
}
