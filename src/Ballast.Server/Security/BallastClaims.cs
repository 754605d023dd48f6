using System.Security.Claims;
using Ballast.Security;

namespace Ballast.Server.Security;

public static class BallastClaims
{
    public const string Scheme = "ApiKey";
    public const string Role = "ballast:role";
    public const string AnonymousName = "anonymous";

    /// <summary>
    /// The user of every request without a key where anonymous access is allowed: an admin. One principal, made once and
    /// shared (nothing mutates it), rather than a principal, identity and claims per request.
    /// </summary>
    public static ClaimsPrincipal Anonymous { get; } = Principal(AnonymousName, ApiKeyRole.Admin);

    public static ClaimsPrincipal Principal(string name, ApiKeyRole role) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(Role, role.ToName())], Scheme));

    /// <summary>Who acted, for records that name an actor (an experiment's stop, an alert's silence): the key's name, else anonymous.</summary>
    public static string NameOf(ClaimsPrincipal user) => user?.Identity?.Name ?? AnonymousName;

    public static ApiKeyRole? RoleOf(ClaimsPrincipal user) =>
        ApiKeyRoles.TryParse(user?.FindFirst(Role)?.Value, out var role) ? role : null;
}
