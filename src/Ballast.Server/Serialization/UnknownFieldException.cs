using System.Text.Json;

namespace Ballast.Server.Serialization;

/// <summary>
/// A body sets a field its type only computes (<see cref="RequestJsonContract"/>): refused as a field the type does not
/// take. The serializer sets <see cref="JsonException.Path"/> to the field's place in the body.
/// </summary>
public sealed class UnknownFieldException : JsonException
{
    public UnknownFieldException()
        : this("", "")
    {
    }

    public UnknownFieldException(string message)
        : base(message)
    {
        (Field, TypeName) = ("", "");
    }

    public UnknownFieldException(string message, Exception innerException)
        : base(message, innerException)
    {
        (Field, TypeName) = ("", "");
    }

    public UnknownFieldException(string field, string type)
        : base($"The JSON property '{field}' is computed by type '{type}' and cannot be set.")
    {
        (Field, TypeName) = (field, type);
    }

    /// <summary>The field's JSON name.</summary>
    public string Field { get; }

    /// <summary>The type that has it, as the serializer names types (<c>Ballast.Alerts.AlertRuleSpec</c>).</summary>
    public string TypeName { get; }
}
