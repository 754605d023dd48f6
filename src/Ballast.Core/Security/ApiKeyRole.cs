namespace Ballast.Security;

/// <summary>What a key may do. Each role includes the ones below it: admin ⊇ writer ⊇ reader.</summary>
public enum ApiKeyRole
{
    /// <summary>Reads everything: runs, models, endpoints, monitors; scores requests.</summary>
    Reader = 1,

    /// <summary>Also logs runs, registers models, changes endpoints, rollouts and experiments.</summary>
    Writer = 2,

    /// <summary>Also manages API keys.</summary>
    Admin = 3,
}

public static class ApiKeyRoles
{
    public static readonly IReadOnlyList<string> Names = ["reader", "writer", "admin"];

    public static bool TryParse(string? value, out ApiKeyRole role)
    {
        role = (value ?? "").Trim().ToLowerInvariant() switch
        {
            "reader" => ApiKeyRole.Reader,
            "writer" => ApiKeyRole.Writer,
            "admin" => ApiKeyRole.Admin,
            _ => 0,
        };
        return role != 0;
    }

    public static string ToName(this ApiKeyRole role) => role switch
    {
        ApiKeyRole.Reader => "reader",
        ApiKeyRole.Writer => "writer",
        ApiKeyRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown role."),
    };
}
