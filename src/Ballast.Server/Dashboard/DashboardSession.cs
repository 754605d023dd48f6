using System.Globalization;
using System.Security.Cryptography;
using Ballast.Security;
using Ballast.Server.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;

namespace Ballast.Server.Dashboard;

/// <summary>
/// The dashboard's sign-in: the login form takes an API key (the same keys as the API), checks it, and stores it
/// encrypted and authenticated (ASP.NET Core Data Protection) with its issue time in an HttpOnly, SameSite=Strict
/// cookie scoped to <c>/ui</c>. Every request checks the key again, so revoking it ends the session at once. Where the
/// server lets requests without a key pass (no keys yet on loopback, or --insecure), the dashboard does too.
/// </summary>
internal sealed class DashboardSession(ApiKeyStore keys, AuthenticationGate gate, IDataProtectionProvider protection, TimeProvider time)
{
    public const string CookieName = "ballast_session";

    /// <summary>A session lasts a working day; then the key is asked for again.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private readonly IDataProtector _protector = protection.CreateProtector("Ballast.Dashboard.Session.v1");

    public async Task<DashboardUser?> ResolveAsync(HttpContext context)
    {
        if (context.Request.Cookies.TryGetValue(CookieName, out var cookie) && Unprotect(cookie) is { } token)
        {
            var key = await keys.AuthenticateAsync(token, context.RequestAborted).ConfigureAwait(false);
            if (key is not null)
            {
                return new DashboardUser(key.Name, key.Role, SignedIn: true);
            }
        }

        return await gate.AllowsAnonymousAsync(context.RequestAborted).ConfigureAwait(false)
            ? new DashboardUser(BallastClaims.AnonymousName, ApiKeyRole.Admin, SignedIn: false)
            : null;
    }

    /// <summary>Checks <paramref name="token"/>; on success sets the session cookie and returns the user.</summary>
    public async Task<DashboardUser?> SignInAsync(HttpContext context, string token)
    {
        var key = await keys.AuthenticateAsync(token, context.RequestAborted).ConfigureAwait(false);
        if (key is null)
        {
            return null;
        }

        var issued = time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        context.Response.Cookies.Append(CookieName, _protector.Protect(issued + "|" + token), Options(context, time.GetUtcNow() + Lifetime));
        return new DashboardUser(key.Name, key.Role, SignedIn: true);
    }

    public static void SignOut(HttpContext context) => context.Response.Cookies.Delete(CookieName, Options(context, null));

    private string? Unprotect(string cookie)
    {
        string payload;
        try
        {
            payload = _protector.Unprotect(cookie);
        }
        catch (CryptographicException)
        {
            return null;
        }

        var bar = payload.IndexOf('|', StringComparison.Ordinal);
        if (bar <= 0 || !long.TryParse(payload.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out var issued))
        {
            return null;
        }

        var age = time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(issued);
        return age < TimeSpan.Zero || age > Lifetime ? null : payload[(bar + 1)..];
    }

    private static CookieOptions Options(HttpContext context, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = DashboardRoutes.Prefix,
        Expires = expires,
        IsEssential = true,
    };
}
