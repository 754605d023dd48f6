using Ballast.Tracking;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Serialization;

/// <summary>
/// Route metadata: the validation a route runs on its body (an endpoint's <c>EndpointValidation.Validate</c>, a
/// rollout's, an experiment's, a monitor's, an alert rule's, a pipeline's, a feature set's). When the body is refused
/// for fields its type does not have, the rest of it is checked with this too, so that one 400 names both kinds of
/// problem, not the second only once the first is fixed.
/// </summary>
public sealed class BodyValidation
{
    private readonly Action<object, RouteValueDictionary, IServiceProvider> _validate;

    private BodyValidation(Action<object, RouteValueDictionary, IServiceProvider> validate) => _validate = validate;

    /// <summary>For a body of type <typeparamref name="T"/>; <paramref name="validate"/> throws a <see cref="TrackingException"/> for what it refuses.</summary>
    public static BodyValidation For<T>(Action<T, RouteValueDictionary> validate)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(validate);
        return new BodyValidation((body, route, _) => validate((T)body, route));
    }

    /// <summary>
    /// For a body of type <typeparamref name="T"/> whose validation needs the request's services (a pipeline's, the
    /// step kinds the server knows); <paramref name="validate"/> throws a <see cref="TrackingException"/> for what it refuses.
    /// </summary>
    public static BodyValidation For<T>(Action<T, RouteValueDictionary, IServiceProvider> validate)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(validate);
        return new BodyValidation((body, route, services) => validate((T)body, route, services));
    }

    /// <summary>
    /// For the body of a route whose path names the object (<c>PUT …/{name}</c>): checked as the route checks it, the
    /// body's own name first (<see cref="CheckNamedByPath"/>), then the spec named by the path with <paramref name="validate"/>.
    /// </summary>
    public static BodyValidation NamedByPath<T>(string kind, Func<T, string?> name, Func<T, string, T> withName, Action<T, IServiceProvider> validate)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(withName);
        ArgumentNullException.ThrowIfNull(validate);
        return new BodyValidation((body, route, services) =>
        {
            var spec = (T)body;
            if (route["name"] is string path)
            {
                CheckNamedByPath(kind, name(spec), path);
                spec = withName(spec, path);
            }

            validate(spec, services);
        });
    }

    /// <summary>Refuses a body naming another <paramref name="kind"/> than its path: the path names the object, a body may leave the name out.</summary>
    public static void CheckNamedByPath(string kind, string? bodyName, string pathName)
    {
        if (!string.IsNullOrEmpty(bodyName) && bodyName != pathName)
        {
            throw TrackingException.Invalid($"The body names {kind} '{bodyName}' but the path names '{pathName}'.");
        }
    }

    /// <summary>The refusal of <paramref name="body"/> (read from the request, with the route's values and services), or null when it passes.</summary>
    public TrackingException? Check(object body, RouteValueDictionary route, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(services);
        try
        {
            _validate(body, route, services);
            return null;
        }
        catch (TrackingException refusal)
        {
            return refusal;
        }
    }
}
