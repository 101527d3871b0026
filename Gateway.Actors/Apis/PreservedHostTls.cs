using System.Net;
using System.Net.Security;

namespace Gateway.Actors.Apis;

/// <summary>
/// TLS to upstreams for APIs that send the client's Host header upstream (preserve-host-header = on).
/// </summary>
/// <remarks>
/// SocketsHttpHandler takes the SNI name and the name it validates the certificate against from the
/// request's Host header, so with the client's Host it would ask the upstream for the client's name.
/// The upstream is to be reached by the target's host name, so for these APIs the TLS handshake
/// happens in the connect callback, with SNI and validation set to the host the socket connects to,
/// and the handler receives the requests as plain HTTP.
/// NOTE: the handler then cannot negotiate h2 through ALPN, so these APIs use HTTP/1.1 to https
/// upstreams; WebSocket handshakes use HTTP/1.1 anyway.
/// </remarks>
internal static class PreservedHostTls
{
    private static readonly HttpRequestOptionsKey<bool> TlsRequested = new("Gateway.UpstreamTlsRequested");

    /// <summary>Wraps the handler so that https requests reach it as http, marked for TLS in the connect callback.</summary>
    public static HttpMessageHandler WrapHandler(SocketsHttpHandler handler) => new HttpsAsHttpHandler(handler);

    /// <summary>
    /// Creates a connect callback that opens the TCP connection (with <paramref name="connect"/> when
    /// given) and runs TLS over it for requests that <see cref="WrapHandler"/> marked.
    /// </summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> CreateConnectCallback(
        SslClientAuthenticationOptions template,
        UpstreamConnect? connect)
    {
        return async (context, cancellationToken) =>
        {
            var stream = await (connect ?? UpstreamConnector.ConnectTcpAsync)(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            if (!context.InitialRequestMessage.Options.TryGetValue(TlsRequested, out var tls) || !tls)
            {
                return stream;
            }

            return await UpstreamHandlers.StartHttp11TlsAsync(stream, template, context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
        };
    }

    private sealed class HttpsAsHttpHandler : DelegatingHandler
    {
        public HttpsAsHttpHandler(HttpMessageHandler inner)
            : base(inner)
        {
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { Scheme: "https" } uri)
            {
                // The port stays explicit, so a target without one still reaches 443.
                request.RequestUri = new UriBuilder(uri) { Scheme = Uri.UriSchemeHttp, Port = uri.Port }.Uri;
                request.Options.Set(TlsRequested, true);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
