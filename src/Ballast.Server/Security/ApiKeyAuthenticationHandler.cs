using System.Text.Encodings.Web;
using Ballast.Security;
using Ballast.Server.Errors;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Ballast.Server.Security;

/// <summary>Authenticates <c>Authorization: Bearer blst_…</c>. A key that is present is always checked, even where anonymous access is allowed.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    AuthenticationGate gate)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string InvalidKeyMessage = "The API key is invalid or has been revoked.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return await gate.AllowsAnonymousAsync(Context.RequestAborted).ConfigureAwait(false)
                ? Success(BallastClaims.AnonymousName, ApiKeyRole.Admin)
                : AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("The Authorization header must be 'Bearer <API key>'.");
        }

        var key = await keys.AuthenticateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted).ConfigureAwait(false);
        return key is null ? AuthenticateResult.Fail(InvalidKeyMessage) : Success(key.Name, key.Role);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
        var message = result.Failure?.Message ?? "This request needs an API key: send 'Authorization: Bearer <key>' (create one with `ballast keys create`).";
        await ErrorResponses.WriteAsync(Context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthenticated, message).ConfigureAwait(false);
    }

    private AuthenticateResult Success(string name, ApiKeyRole role) =>
        AuthenticateResult.Success(new AuthenticationTicket(BallastClaims.Principal(name, role), Scheme.Name));
}
