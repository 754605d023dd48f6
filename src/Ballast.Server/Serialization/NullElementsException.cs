using System.Text.Json;

namespace Ballast.Server.Serialization;

/// <summary>
/// A body's object holds null elements its type refuses (<see cref="RequestJsonContract"/>). <see cref="Problems"/> name
/// them from that object; the serializer sets <see cref="JsonException.Path"/> to the object's own place in the body.
/// </summary>
public sealed class NullElementsException : JsonException
{
    public NullElementsException()
    {
        Problems = [];
    }

    public NullElementsException(string message)
        : base(message)
    {
        Problems = [message];
    }

    public NullElementsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    public NullElementsException(IReadOnlyList<string> problems)
        : base(string.Join("; ", problems ?? throw new ArgumentNullException(nameof(problems))))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }
}
