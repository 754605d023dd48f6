using System.Net;
using System.Net.Sockets;

namespace Ballast.Configuration;

/// <summary>Parsing of the --listen value: one or more http(s) URLs separated by commas or semicolons.</summary>
public static class ListenAddresses
{
    public static IReadOnlyList<Uri> Parse(string listen) =>
        Split(listen).Select(value => new Uri(value, UriKind.Absolute)).ToList();

    public static IEnumerable<string> Validate(string listen)
    {
        var values = Split(listen);
        if (values.Count == 0)
        {
            yield return "must name at least one URL, e.g. http://127.0.0.1:5000";
            yield break;
        }

        foreach (var value in values)
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                yield return $"'{value}' is not an http:// or https:// URL";
            }
            else if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
            {
                yield return $"'{value}' must not have a path; give scheme, host and port only";
            }
        }
    }

    /// <summary>True when every address is a loopback address (127.0.0.0/8, ::1 or localhost), so only this machine can connect.</summary>
    public static bool AreLoopbackOnly(string listen) => Parse(listen).All(IsLoopback);

    public static bool IsLoopback(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>
    /// The first address of <paramref name="listen"/> that is taken (another process listens there) or not this machine's,
    /// with the reason; null when each can be bound. Checked by binding and releasing a socket before the server starts,
    /// so that the common mistake gets one clear line before anything else runs. Host names other than localhost, and
    /// port 0, are left to the server.
    /// </summary>
    public static string? FirstUnavailable(string listen)
    {
        foreach (var uri in Parse(listen).Where(uri => uri.Port != 0))
        {
            var address = string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
                : IPAddress.TryParse(uri.Host.Trim('[', ']'), out var parsed) ? parsed : null;
            if (address is null)
            {
                continue;
            }

            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(address, uri.Port));
            }
            catch (SocketException exception) when (exception.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AddressNotAvailable or SocketError.AccessDenied)
            {
                return $"{uri.GetLeftPart(UriPartial.Authority)}: {exception.SocketErrorCode switch
                {
                    SocketError.AddressAlreadyInUse => "address already in use (is another server running there?)",
                    SocketError.AddressNotAvailable => "that address is not one of this machine's",
                    _ => "permission denied (ports below 1024 need privileges)",
                }}";
            }
        }

        return null;
    }

    private static List<string> Split(string listen) =>
        (listen ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
