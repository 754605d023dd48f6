using Ballast.Security;
using Ballast.Server.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace Ballast.Server.Security;

/// <summary>Turns a failed role check into a 403 that says which role the key has and which the request needs.</summary>
internal sealed class BallastAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden)
        {
            var needed = policy.Requirements.OfType<RoleRequirement>().Select(requirement => requirement.Role).DefaultIfEmpty(ApiKeyRole.Reader).Max();
            var has = BallastClaims.RoleOf(context.User)?.ToName() ?? "none";
            return ErrorResponses.WriteAsync(context, StatusCodes.Status403Forbidden, ErrorCodes.PermissionDenied,
                $"This API key has the role '{has}'; this request needs '{needed.ToName()}' or higher.");
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
