using Ballast.Security;
using Microsoft.AspNetCore.Authorization;

namespace Ballast.Server.Security;

/// <summary>Authorization policies named after roles; each admits its role and every role above it.</summary>
public static class BallastPolicies
{
    public const string Reader = "reader";
    public const string Writer = "writer";
    public const string Admin = "admin";

    public static void Add(AuthorizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // No AddAuthenticationSchemes: the API key scheme is the default one, which the authentication middleware has
        // already run; naming it here made every request authenticate a second time (another result, ticket and merged
        // principal per request) for the same user.
        foreach (var role in new[] { ApiKeyRole.Reader, ApiKeyRole.Writer, ApiKeyRole.Admin })
        {
            options.AddPolicy(role.ToName(), policy => policy
                .RequireAuthenticatedUser()
                .AddRequirements(new RoleRequirement(role)));
        }
    }
}

public sealed class RoleRequirement(ApiKeyRole role) : IAuthorizationRequirement
{
    public ApiKeyRole Role { get; } = role;
}

internal sealed class RoleRequirementHandler : AuthorizationHandler<RoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        if (BallastClaims.RoleOf(context.User) is { } role && role >= requirement.Role)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
