using System.Net;
using Gateway.Actors.Configuration;

namespace Gateway.Actors.Apis;

/// <summary>Creates the HTTP client handler an API uses for both forwarded requests and WebSocket handshakes.</summary>
public static class UpstreamHandlers
{
    public static HttpMessageInvoker Create(ApiDefinition api)
    {
        // A proxy must not follow redirects, decompress, keep cookies or go through a system proxy: the
        // client sees the upstream's answer as it is.
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = api.Timeouts.Connect,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        };
        return new HttpMessageInvoker(handler, disposeHandler: true);
    }
}
