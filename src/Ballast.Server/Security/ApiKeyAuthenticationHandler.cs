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

    // Without a key, where anonymous access is allowed, every request is the same anonymous admin: one result, made
    // once, rather than a principal, identity, claims, ticket and task per request (about 1 KB of the scoring path).
    private static readonly Task<AuthenticateResult> Anonymous = Task.FromResult(AuthenticateResult.Success(
        new AuthenticationTicket(BallastClaims.Anonymous, BallastClaims.Scheme)));

    private static readonly Task<AuthenticateResult> NoKey = Task.FromResult(AuthenticateResult.NoResult());

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            var allows = gate.AllowsAnonymousAsync(Context.RequestAborted);
            return allows.IsCompletedSuccessfully ? AnonymousOrNot(allows.Result) : AnonymousOrNotAsync(allows);
        }

        return AuthenticateKeyAsync(header);
    }

    private Task<AuthenticateResult> AnonymousOrNot(bool allowed) =>
        !allowed ? NoKey : Scheme.Name == BallastClaims.Scheme ? Anonymous : Task.FromResult(Success(BallastClaims.AnonymousName, ApiKeyRole.Admin));

    private async Task<AuthenticateResult> AnonymousOrNotAsync(ValueTask<bool> allows) =>
        await AnonymousOrNot(await allows.ConfigureAwait(false)).ConfigureAwait(false);

    private async Task<AuthenticateResult> AuthenticateKeyAsync(string header)
    {
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
