using System.Security.Cryptography;
using System.Xml;
using Ballast.Configuration;
using Ballast.Security;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ballast.Server.Security;

/// <summary>
/// Makes the shared key ring usable before the server listens. Under the key ring's lock (so that replicas starting
/// at once take turns): a ring still empty takes the keys a single-node install kept in its data folder; every
/// unexpired key must decrypt, or start-up stops with the reason (no key, or another key, in
/// BALLAST_DATA_PROTECTION_KEY) instead of quietly making a new ring; and when no key is usable now, one is created.
/// The replicas that come after find it, so all of them protect and unprotect with the same key from the start.
/// </summary>
internal sealed partial class KeyRingStartup(KeyRingStore store, IKeyManager keys, IOptions<KeyManagementOptions> options, TimeProvider time,
    string? importFolder, ILogger<KeyRingStartup> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await using var held = await store.LockAsync(cancellationToken).ConfigureAwait(false);
        ImportFolder();
        var now = time.GetUtcNow();
        var unexpired = keys.GetAllKeys().Where(key => !key.IsRevoked && key.ExpirationDate > now).ToList();
        foreach (var key in unexpired)
        {
            try
            {
                _ = key.Descriptor;
            }
            catch (Exception exception) when (exception is CryptographicException or XmlException or InvalidOperationException)
            {
                throw BallastStartupException.InvalidConfiguration([Reason(exception)]);
            }
        }

        if (!unexpired.Any(key => key.ActivationDate <= now))
        {
            var key = keys.CreateNewKey(now, now + options.Value.NewKeyLifetime);
            Log.KeyCreated(logger, key.KeyId, key.ExpirationDate);
            if (options.Value.XmlEncryptor is null)
            {
                // Said here, naming the setting, instead of by Data Protection's own warning (filtered out by the server).
                Log.Unencrypted(logger, KeyRingEncryption.EnvironmentVariable, BallastDefaults.DataProtectionKeyMinimumLength);
            }
        }
    }

    /// <summary>Keys of the folder that held the ring before it moved to the database, so that an upgrade keeps sessions.</summary>
    private void ImportFolder()
    {
        if (importFolder is null || !Directory.Exists(importFolder) || store.List().Count > 0)
        {
            return;
        }

        var files = Directory.GetFiles(importFolder, "*.xml").Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            store.Add(Path.GetFileNameWithoutExtension(file), File.ReadAllText(file));
        }

        if (files.Count > 0)
        {
            Log.Imported(logger, files.Count, importFolder);
        }
    }

    /// <summary>The innermost cryptographic reason, which names the setting to fix.</summary>
    private static string Reason(Exception exception)
    {
        var reason = exception;
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is CryptographicException)
            {
                reason = inner;
            }
        }

        return "a key of the dashboard's key ring cannot be read: " + reason.Message.TrimEnd('.');
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Dashboard key ring: created key {KeyId} (expires {Expires:u})")]
        public static partial void KeyCreated(ILogger logger, Guid keyId, DateTimeOffset expires);

        [LoggerMessage(2, LogLevel.Information, "Dashboard key ring: took {Count} key file(s) from {Folder} into the metadata database")]
        public static partial void Imported(ILogger logger, int count, string folder);

        [LoggerMessage(3, LogLevel.Warning, "Dashboard key ring: its new key is stored unencrypted in the metadata database; set {Variable} (at least {Length} characters, e.g. from `openssl rand -base64 32`) to encrypt the ring at rest")]
        public static partial void Unencrypted(ILogger logger, string variable, int length);
    }
}
