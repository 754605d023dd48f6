namespace Ballast.Security;

public sealed class ApiKeyNameTakenException(string name)
    : Exception($"An API key named '{name}' already exists; revoke it first or choose another name.")
{
    public string Name { get; } = name;
}
