using System.Xml.Linq;
using Ballast.Security;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Ballast.Server.Security;

/// <summary>The Data Protection key repository over the metadata database (<see cref="KeyRingStore"/>), shared by every replica.</summary>
internal sealed class DatabaseXmlRepository(KeyRingStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => store.List().Select(element => XElement.Parse(element.Xml)).ToList();

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        store.Add(string.IsNullOrWhiteSpace(friendlyName) ? element.Name.LocalName : friendlyName, element.ToString(SaveOptions.DisableFormatting));
    }
}
