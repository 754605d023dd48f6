using System.Globalization;
using StackExchange.Redis;

namespace Ballast.Features;

/// <summary>
/// The online store in Redis, for scale-out: one hash per view and entity key (<c>{prefix}{view}:{key}</c>, fields
/// <c>t</c> event time and <c>v</c> the values), written by a script that keeps the newer value atomically.
/// </summary>
public sealed class RedisOnlineStore : IOnlineStore, IAsyncDisposable
{
    public const string DefaultPrefix = "ballast:features:";

    // Keeps the stored value when it is newer, or equally new and identical; otherwise writes. Returns 1 when it wrote.
    private const string WriteScript = """
        local t = redis.call('HGET', KEYS[1], 't')
        if t then
          local stored = tonumber(t)
          local incoming = tonumber(ARGV[1])
          if stored > incoming or (stored == incoming and redis.call('HGET', KEYS[1], 'v') == ARGV[2]) then return 0 end
        end
        redis.call('HSET', KEYS[1], 't', ARGV[1], 'v', ARGV[2])
        return 1
        """;

    private static readonly RedisValue[] Fields = ["t", "v"];

    private readonly ConnectionMultiplexer _redis;
    private readonly string _prefix;

    private RedisOnlineStore(ConnectionMultiplexer redis, string prefix)
    {
        _redis = redis;
        _prefix = prefix;
    }

    public string Kind => "redis";

    /// <summary>
    /// Connects to <c>redis://[user:password@]host:port[/db][?prefix=keys-prefix:]</c> (or a StackExchange.Redis
    /// configuration string); the prefix lets several Ballast installations share one Redis.
    /// </summary>
    public static async Task<RedisOnlineStore> ConnectAsync(string address, string prefix = DefaultPrefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var configuration = address;
        if (address.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            var uri = new Uri(address);
            configuration = $"{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379)}";
            foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = pair.Split('=', 2);
                if (parts[0] == "prefix" && parts.Length == 2)
                {
                    prefix = Uri.UnescapeDataString(parts[1]);
                }
            }

            if (uri.AbsolutePath.Trim('/') is { Length: > 0 } database)
            {
                configuration += ",defaultDatabase=" + database;
            }

            if (uri.UserInfo.Length > 0)
            {
                var parts = uri.UserInfo.Split(':', 2);
                configuration += parts.Length == 2 ? $",user={Uri.UnescapeDataString(parts[0])},password={Uri.UnescapeDataString(parts[1])}" : $",password={Uri.UnescapeDataString(parts[0])}";
            }
        }

        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        try
        {
            return new RedisOnlineStore(await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false), prefix);
        }
        catch (RedisConnectionException exception)
        {
            // The message of the exception carries no password: the options' ToString hides it.
            throw new InvalidOperationException($"Cannot reach the Redis online store at {options.EndPoints.FirstOrDefault()}: {exception.Message.Split('\n')[0].TrimEnd('.')}.", exception);
        }
    }

    public async Task<int> WriteAsync(string view, IReadOnlyList<OnlineRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        try
        {
            return await WriteRowsAsync(view, rows, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisConnectionException or RedisTimeoutException)
        {
            throw Unavailable(exception);
        }
    }

    private async Task<int> WriteRowsAsync(string view, IReadOnlyList<OnlineRow> rows, CancellationToken cancellationToken)
    {
        var database = _redis.GetDatabase();
        var batch = database.CreateBatch();
        var results = rows.Select(row => batch.ScriptEvaluateAsync(WriteScript, [Key(view, row.EntityKey)],
            [row.EventAt.ToString(CultureInfo.InvariantCulture), row.Values])).ToList();
        batch.Execute();
        var changed = 0;
        foreach (var result in results)
        {
            changed += (int)await result.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return changed;
    }

    public async Task<IReadOnlyList<OnlineRow?>> ReadAsync(string view, IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        try
        {
            return await ReadRowsAsync(view, keys, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisConnectionException or RedisTimeoutException)
        {
            throw Unavailable(exception);
        }
    }

    private async Task<IReadOnlyList<OnlineRow?>> ReadRowsAsync(string view, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var database = _redis.GetDatabase();
        if (keys.Count == 1)
        {
            return [ToRow(keys[0], await database.HashGetAsync(Key(view, keys[0]), Fields).WaitAsync(cancellationToken).ConfigureAwait(false))];
        }

        var batch = database.CreateBatch();
        var pending = keys.Select(key => batch.HashGetAsync(Key(view, key), Fields)).ToList();
        batch.Execute();
        var rows = new OnlineRow?[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            rows[i] = ToRow(keys[i], await pending[i].WaitAsync(cancellationToken).ConfigureAwait(false));
        }

        return rows;
    }

    public async Task<long> DeleteViewAsync(string view, CancellationToken cancellationToken = default)
    {
        long deleted = 0;
        var database = _redis.GetDatabase();
        foreach (var server in _redis.GetServers())
        {
            var keys = new List<RedisKey>();
            await foreach (var key in server.KeysAsync(database.Database, pattern: EscapeGlob(_prefix + view + ":") + "*").WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                keys.Add(key);
                if (keys.Count == 1000)
                {
                    deleted += await database.KeyDeleteAsync([.. keys]).ConfigureAwait(false);
                    keys.Clear();
                }
            }

            if (keys.Count > 0)
            {
                deleted += await database.KeyDeleteAsync([.. keys]).ConfigureAwait(false);
            }
        }

        return deleted;
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync().ConfigureAwait(false);

    private OnlineStoreUnavailableException Unavailable(Exception exception) =>
        new($"The Redis online store at {string.Join(", ", _redis.GetEndPoints().Select(endpoint => endpoint.ToString()))} is unavailable: {exception.Message.Split('\n')[0].TrimEnd('.')}.", exception);

    private RedisKey Key(string view, string entityKey) => _prefix + view + ":" + entityKey;

    private static OnlineRow? ToRow(string key, RedisValue[] values) =>
        values[0].IsNull || values[1].IsNull ? null : new OnlineRow(key, (long)values[0], values[1].ToString());

    private static string EscapeGlob(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal)
        .Replace("?", "\\?", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal);
}
