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
