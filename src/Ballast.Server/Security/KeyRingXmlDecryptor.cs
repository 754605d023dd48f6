using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Server.Security;

/// <summary>
/// Decrypts a stored key's secret. The framework creates it by the type name stored with the key, passing the
/// container, where <see cref="KeyRingEncryption"/> is registered when this server has a key.
/// </summary>
public sealed class KeyRingXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var encryption = services.GetService<KeyRingEncryption>()
            ?? throw new CryptographicException(KeyRingEncryption.MissingKey((string?)encryptedElement.Attribute("fingerprint") ?? "unknown"));
        return encryption.Decrypt(encryptedElement);
    }
}
