using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace Ballast.Server.Security;

/// <summary>
/// Encrypts the key ring's secrets at rest with a key from configuration (<c>BALLAST_DATA_PROTECTION_KEY</c>): AES-256-GCM
/// under a key derived from it with HKDF-SHA256. The stored element names the cipher and a short fingerprint of the
/// key (an HMAC, which reveals nothing of the key), so that a server with no key or another key can say so in one line.
/// </summary>
public sealed class KeyRingEncryption
{
    public const string EnvironmentVariable = "BALLAST_DATA_PROTECTION_KEY";

    internal static readonly XName Element = XName.Get("encryptedSecret", "urn:ballast:key-ring");
    internal const string Cipher = "AES-256-GCM";

    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    private readonly byte[] _key;

    private KeyRingEncryption(byte[] key)
    {
        _key = key;
        Fingerprint = Convert.ToHexStringLower(HMACSHA256.HashData(key, "ballast key ring fingerprint"u8)[..8]);
    }

    /// <summary>A short public name of the key, stored beside what it encrypted.</summary>
    public string Fingerprint { get; }

    public static KeyRingEncryption FromSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Trim().Length < Ballast.Configuration.BallastDefaults.DataProtectionKeyMinimumLength)
        {
            // The options validator reports this at start-up with the setting's name; the secret is never echoed.
            throw new ArgumentException($"{EnvironmentVariable} is too short.", nameof(secret));
        }

        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret.Trim()), 32, salt: [], info: "ballast data protection key ring v1"u8.ToArray());
        return new KeyRingEncryption(key);
    }

    public XElement Encrypt(XElement secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var plain = Encoding.UTF8.GetBytes(secret.ToString(SaveOptions.DisableFormatting));
        var sealedBytes = new byte[NonceBytes + TagBytes + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), AssociatedData);
        CryptographicOperations.ZeroMemory(plain);
        return new XElement(Element, new XAttribute("cipher", Cipher), new XAttribute("fingerprint", Fingerprint), Convert.ToBase64String(sealedBytes));
    }

    public XElement Decrypt(XElement encrypted)
    {
        ArgumentNullException.ThrowIfNull(encrypted);
        var fingerprint = (string?)encrypted.Attribute("fingerprint") ?? "";
        if ((string?)encrypted.Attribute("cipher") != Cipher)
        {
            throw new CryptographicException($"A key of the dashboard's key ring is encrypted with '{(string?)encrypted.Attribute("cipher")}', which this server does not know (it knows {Cipher}).");
        }

        if (fingerprint != Fingerprint)
        {
            throw new CryptographicException(
                $"The dashboard's key ring in the metadata database was encrypted with another {EnvironmentVariable} (fingerprint {fingerprint}; this server's is {Fingerprint}): give every replica the same key.");
        }

        byte[] sealedBytes;
        try
        {
            sealedBytes = Convert.FromBase64String(encrypted.Value);
        }
        catch (FormatException exception)
        {
            throw new CryptographicException("A key of the dashboard's key ring is damaged: its encrypted value is not base64.", exception);
        }

        if (sealedBytes.Length < NonceBytes + TagBytes)
        {
            throw new CryptographicException("A key of the dashboard's key ring is damaged: its encrypted value is too short.");
        }

        var plain = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(_key, TagBytes);
        try
        {
            aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), plain, AssociatedData);
        }
        catch (AuthenticationTagMismatchException exception)
        {
            throw new CryptographicException("A key of the dashboard's key ring is damaged or was altered: it does not authenticate under this server's key.", exception);
        }

        try
        {
            return XElement.Parse(Encoding.UTF8.GetString(plain));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>Why the key ring is unreadable when it is encrypted and this server has no key.</summary>
    internal static string MissingKey(string fingerprint) =>
        $"The dashboard's key ring in the metadata database is encrypted (key fingerprint {fingerprint}): set {EnvironmentVariable} to the key it was encrypted with.";

    private static ReadOnlySpan<byte> AssociatedData => "ballast key ring"u8;
}
