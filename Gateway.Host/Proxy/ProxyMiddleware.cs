using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;

namespace Gateway.Host.Proxy;

/// <summary>
/// The client listeners' request path: routes by the longest listen-path prefix, then hands the request
/// to the WebSocket proxy or the HTTP proxy.
/// </summary>
public sealed class ProxyMiddleware
{
    private readonly RouteTableHolder _routes;
    private readonly GatewaySettings _settings;
    private readonly WebSocketProxy _webSockets;
    private readonly HttpProxy _http;

    public ProxyMiddleware(RequestDelegate next, RouteTableHolder routes, GatewaySettings settings, WebSocketProxy webSockets, HttpProxy http)
    {
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

        var query = context.Request.QueryString.Value ?? "";
        if (WebSocketProxy.IsUpgrade(context.Request))
        {
            if (!_settings.EnableWebSockets)
            {
                await GatewayErrors.WriteAsync(context, ForwardingOutcome.WebSocketsDisabled,
                    $"WebSocket upgrades are disabled on this gateway, so API '{route.Definition.Name}' cannot be reached over a WebSocket. " +
                    "The operator can enable them with 'gateway.enable-websockets = on'.");
                return;
            }

            await _webSockets.ProxyAsync(context, route, path, query);
            return;
        }

        await _http.ProxyAsync(context, route, path, query);
    }
}
