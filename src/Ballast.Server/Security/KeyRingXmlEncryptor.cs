using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Ballast.Server.Security;

/// <summary>Data Protection's hook for encrypting a new key's secret before it is stored (<see cref="KeyRingEncryption"/>).</summary>
internal sealed class KeyRingXmlEncryptor(KeyRingEncryption encryption) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement) => new(encryption.Encrypt(plaintextElement), typeof(KeyRingXmlDecryptor));
}
