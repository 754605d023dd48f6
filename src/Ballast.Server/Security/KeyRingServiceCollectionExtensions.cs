using Ballast.Metadata;
using Ballast.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ballast.Server.Security;

public static class KeyRingServiceCollectionExtensions
{
    /// <summary>
    /// ASP.NET Core Data Protection (the dashboard's session cookie and anti-forgery tokens) with its key ring in the
    /// metadata database, shared by every replica, encrypted at rest when <paramref name="encryptionSecret"/> is given,
    /// and made usable before the server listens (<see cref="KeyRingStartup"/>). <paramref name="importFolder"/> is
    /// where an older version kept the ring in files; its keys are taken over once, into an empty ring.
    /// </summary>
    public static IServiceCollection AddKeyRing(this IServiceCollection services, MetadataDatabase database, TimeProvider time, string? encryptionSecret, string? importFolder)
    {
        var store = new KeyRingStore(database, time);
        var encryption = encryptionSecret is null ? null : KeyRingEncryption.FromSecret(encryptionSecret);
        services.AddSingleton(store);
        if (encryption is not null)
        {
            services.AddSingleton(encryption); // the decryptor finds it here
        }

        services.AddDataProtection().SetApplicationName("ballast").AddKeyManagementOptions(options =>
        {
            options.XmlRepository = new DatabaseXmlRepository(store);
            if (encryption is not null)
            {
                options.XmlEncryptor = new KeyRingXmlEncryptor(encryption);
            }
        });
        services.AddHostedService(provider => new KeyRingStartup(store, provider.GetRequiredService<IKeyManager>(),
            provider.GetRequiredService<IOptions<KeyManagementOptions>>(), time, importFolder, provider.GetRequiredService<ILogger<KeyRingStartup>>()));
        return services;
    }
}
