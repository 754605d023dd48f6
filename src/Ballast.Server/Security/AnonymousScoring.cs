using Ballast.Server.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Server.Security;

/// <summary>
/// Authentication and authorization, with a fast path for scoring requests without a key where anonymous access is
/// allowed (the gate knows it without a query): such a request is the anonymous admin, as the API key handler would
/// make it, and an admin passes every role policy, so it skips both middlewares (per request, the handler's creation
/// and the policy evaluation cost about 5% of a scoring request's CPU). Every other request, and any request that
/// carries an <c>Authorization</c> header (always checked) or arrives where keys exist, goes through both as before.
/// </summary>
internal static class AnonymousScoring
{
    private const string AuthenticationMiddlewareSet = "__AuthenticationMiddlewareSet";
    private const string AuthorizationMiddlewareSet = "__AuthorizationMiddlewareSet";
    private const string AuthorizationMiddlewareInvoked = "__AuthorizationMiddlewareWithEndpointInvoked";
    private static readonly object AuthorizationMiddlewareInvokedValue = true;

    public static IApplicationBuilder UseBallastAuthentication(this IApplicationBuilder app)
    {
        var gate = app.ApplicationServices.GetRequiredService<AuthenticationGate>();
        // WebApplication adds both middlewares in front of the pipeline unless these marks are on it; UseAuthentication
        // and UseAuthorization set them on the branch, whose properties are a copy.
        app.Properties[AuthenticationMiddlewareSet] = true;
        app.Properties[AuthorizationMiddlewareSet] = true;
        return app.UseWhen(context => !Admits(gate, context), secured => secured.UseAuthentication().UseAuthorization());
    }

    /// <summary>Whether <paramref name="context"/> takes the fast path; when it does, its user is set to the anonymous admin.</summary>
    internal static bool Admits(AuthenticationGate gate, HttpContext context)
    {
        string? header = context.Request.Headers.Authorization;
        if (!string.IsNullOrEmpty(header) || !InferenceApi.IsScoringPath(context.Request.Path) || !gate.TryAllowsAnonymous(out var allows) || !allows)
        {
            return false;
        }

        context.User = BallastClaims.Anonymous;
        // What the authorization middleware leaves for the endpoint middleware, which refuses an endpoint with
        // authorization metadata that no authorization ran for: here the decision is made (an admin passes every policy).
        context.Items[AuthorizationMiddlewareInvoked] = AuthorizationMiddlewareInvokedValue;
        return true;
    }
}
