using System.Net;

namespace Ballast.Client;

public sealed class BallastApiException(HttpStatusCode status, string code, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    public string Code { get; } = code;
}
