using Akka.Actor;
using Gateway.Actors.Configuration;
using Gateway.Actors.Resilience;

namespace Gateway.Actors.Routing;

/// <summary>
/// One API as the request path sees it: its definition, the actor that owns its connections, and the
/// thread-safe objects the request path uses without asking the actor.
/// </summary>
public sealed class ApiRoute
{
    public ApiRoute(ApiDefinition definition, IActorRef actor, HttpMessageInvoker invoker, TargetSelector targets, CircuitBreaker? breaker)
    {
        Definition = definition;
        Actor = actor;
        Invoker = invoker;
        Targets = targets;
        Breaker = breaker;
    }

    public ApiDefinition Definition { get; }

    public IActorRef Actor { get; }

    /// <summary>The API's HTTP client, shared by forwarded requests and WebSocket handshakes.</summary>
    public HttpMessageInvoker Invoker { get; }

    public TargetSelector Targets { get; }

    /// <summary>The API's circuit breaker, shared with its actor; null when the API has none.</summary>
    public CircuitBreaker? Breaker { get; }
}

/// <summary>
/// Immutable table of APIs, matched by the longest listen-path prefix. A new table replaces the old one
/// whole, so readers never see a half-updated table.
/// </summary>
public sealed class RouteTable
{
    public static readonly RouteTable Empty = new(Array.Empty<ApiRoute>());

    private readonly ApiRoute[] _byLongestPath;

    public RouteTable(IEnumerable<ApiRoute> routes)
    {
        _byLongestPath = routes.OrderByDescending(route => route.Definition.ListenPath.Length).ToArray();
    }

    public IReadOnlyList<ApiRoute> Routes => _byLongestPath;

    /// <summary>
    /// Finds the API whose listen path is the longest prefix of <paramref name="path"/>. A listen path
    /// that ends in '/' also matches the same path without that slash, so "/echo" reaches "/echo/".
    /// </summary>
    public ApiRoute? Match(string path)
    {
        foreach (var route in _byLongestPath)
        {
            if (Matches(route.Definition.ListenPath, path))
            {
                return route;
            }
        }

        return null;
    }

    internal static bool Matches(string listenPath, string path)
    {
        if (path.StartsWith(listenPath, StringComparison.Ordinal))
        {
            return true;
        }

        return listenPath.Length > 1
            && listenPath.EndsWith('/')
            && path.Length == listenPath.Length - 1
            && listenPath.StartsWith(path, StringComparison.Ordinal);
    }
}
