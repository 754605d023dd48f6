using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ballast.Alerts;

/// <summary>
/// How webhook bodies are signed: <c>Ballast-Timestamp</c> is the Unix time in seconds when the attempt was sent, and
/// <c>Ballast-Signature: sha256=HEX</c> is the lowercase hex HMAC-SHA256, keyed with the secret's UTF-8 bytes, of
/// <c>TIMESTAMP + "." + RAW_BODY</c> (the timestamp's decimal digits, one full stop, the body's exact bytes). A receiver
/// recomputes it, compares in constant time, and refuses timestamps older than a few minutes (replay).
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "Ballast-Signature";
    public const string TimestampHeader = "Ballast-Timestamp";
    public const string NotificationHeader = "Ballast-Notification-Id";

    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>Whether <paramref name="signature"/> is the signature of the body at the timestamp (constant-time comparison).</summary>
    public static bool Verify(string secret, long timestamp, ReadOnlySpan<byte> body, string? signature) =>
        signature is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(signature));
}
