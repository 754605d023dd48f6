using Ballast.Security;
using Ballast.Server.Errors;
using Ballast.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Keys;

public sealed record CreateApiKeyRequest(string? Name, string? Role);

public sealed record ApiKeyResponse(string Id, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public static ApiKeyResponse From(ApiKey key) => new(key.Id, key.Name, key.Role.ToName(), key.CreatedAt, key.RevokedAt);
}

public sealed record CreatedApiKeyResponse(string Id, string Name, string Role, DateTimeOffset CreatedAt, string Token);

public sealed record ApiKeyListResponse(IReadOnlyList<ApiKeyResponse> Keys);

/// <summary><c>/api/v1/keys</c>: API key administration, admin role only.</summary>
public static class KeysApi
{
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/keys").WithTags("Keys").RequireAuthorization(BallastPolicies.Admin);

        group.MapGet("/", async (ApiKeyStore keys, bool? includeRevoked, CancellationToken cancellationToken) =>
            TypedResults.Ok(new ApiKeyListResponse((await keys.ListAsync(includeRevoked ?? false, cancellationToken).ConfigureAwait(false)).Select(ApiKeyResponse.From).ToList())))
            .WithSummary("Lists API keys (never their secrets).");

        group.MapPost("/", CreateAsync).WithSummary("Creates an API key; the token is in this response only.");

        group.MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ApiKeyStore keys, AuthenticationGate gate, CancellationToken cancellationToken) =>
        {
            if (!await keys.RevokeAsync(name, cancellationToken).ConfigureAwait(false))
            {
                return ErrorResponses.ProblemResult(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"There is no live API key named '{name}'.");
            }

            gate.KeysChanged();
            return TypedResults.NoContent();
        }).WithSummary("Revokes an API key; requests with it get 401 from then on.");

        return routes;
    }

    private static async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> CreateAsync(
        CreateApiKeyRequest request, ApiKeyStore keys, AuthenticationGate gate, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (ApiKeyStore.ValidateName(request.Name) is { } nameProblem)
        {
            problems.Add("name: " + nameProblem);
        }

        if (!ApiKeyRoles.TryParse(request.Role, out var role))
        {
            problems.Add($"role: must be one of {string.Join(", ", ApiKeyRoles.Names)}, not '{request.Role}'");
        }

        if (problems.Count > 0)
        {
            return ErrorResponses.ProblemResult(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameterValue, ProblemList.Join(problems) + ".", problems);
        }

        try
        {
            var created = await keys.CreateAsync(request.Name!, role, cancellationToken).ConfigureAwait(false);
            gate.KeysChanged();
            var key = created.Key;
            return TypedResults.Created($"/api/v1/keys/{key.Name}", new CreatedApiKeyResponse(key.Id, key.Name, key.Role.ToName(), key.CreatedAt, created.Token));
        }
        catch (ApiKeyNameTakenException exception)
        {
            return ErrorResponses.ProblemResult(StatusCodes.Status409Conflict, ErrorCodes.AlreadyExists, exception.Message);
        }
    }
}
