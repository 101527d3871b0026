using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;
using Gateway.Actors.Routing;
using Gateway.Host.Auth;

namespace Gateway.Host.Proxy;

/// <summary>
/// The client listeners' request path: routes by the longest listen-path prefix, runs the access checks
/// (auth, access rights, rate limits, quotas), then hands the request to the WebSocket proxy or the
/// HTTP proxy, so the upgrade stays the last step.
/// </summary>
public sealed class ProxyMiddleware
{
    private readonly RouteTableHolder _routes;
    private readonly GatewaySettings _settings;
    private readonly WebSocketProxy _webSockets;
    private readonly HttpProxy _http;
    private readonly AccessGate _access;

    public ProxyMiddleware(RequestDelegate next, RouteTableHolder routes, GatewaySettings settings, WebSocketProxy webSockets, HttpProxy http, AccessGate access)
    {
        _access = access;
        _routes = routes;
        _settings = settings;
        _webSockets = webSockets;
        _http = http;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        await _routes.Ready.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
        var path = context.Request.Path.ToUriComponent();
        var route = _routes.Current.Match(path);
        if (route is null)
        {
            await GatewayErrors.WriteAsync(context, ForwardingOutcome.NoRoute,
                $"No API is configured for the path '{context.Request.Path.Value}'. Check the URL against the listen-path of the gateway's APIs.");
            return;
        }

        var isUpgrade = WebSocketProxy.IsUpgrade(context.Request);
        if (isUpgrade && !_settings.EnableWebSockets)
        {
            await GatewayErrors.WriteAsync(context, ForwardingOutcome.WebSocketsDisabled,
                $"WebSocket upgrades are disabled on this gateway, so API '{route.Definition.Name}' cannot be reached over a WebSocket. " +
                "The operator can enable them with 'gateway.enable-websockets = on'.");
            return;
        }

        // Access checks run before the query is read, because stripping a credential from the query
        // string changes the URL that is forwarded.
        var access = await _access.CheckAsync(context, route.Definition);
        if (access.Rejection is { } rejection)
        {
            await GatewayErrors.WriteAsync(context, rejection, access.Message, access.Limit);
            return;
        }

        var query = context.Request.QueryString.Value ?? "";
        if (isUpgrade)
        {
            var key = access.Key;
            var connectionAccess = key is null
                ? null
                : new ConnectionProtocol.ConnectionAccess(key.Id, key.Policy.MaxConnections, key.Policy.MessagesPerSecond);
            await _webSockets.ProxyAsync(context, route, path, query, connectionAccess);
            return;
        }

        await _http.ProxyAsync(context, route, path, query);
    }
}
