using System.Net;
using System.Net.Security;
using Gateway.Actors.Configuration;

namespace Gateway.Actors.Apis;

/// <summary>Creates the HTTP client handler an API uses for both forwarded requests and WebSocket handshakes.</summary>
public static class UpstreamHandlers
{
    /// <param name="connect">
    /// Replaces how TCP connections to upstreams are opened; null opens them to the target's host and port.
    /// Tests use it to reach a loopback server for a target such as wss://upstream.test/ that names no port.
    /// </param>
    public static HttpMessageInvoker Create(
        ApiDefinition api,
        UpstreamConnect? connect = null)
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
        var sslOptions = CreateSslOptions(api.UpstreamTls);
        if (api.PreserveHostHeader && api.TargetUrls.Any(target => target.Scheme is "https" or "wss"))
        {
            handler.ConnectCallback = PreservedHostTls.CreateConnectCallback(sslOptions, connect);
            return new HttpMessageInvoker(PreservedHostTls.WrapHandler(handler), disposeHandler: true);
        }

        handler.SslOptions = sslOptions;
        if (connect is not null)
        {
            handler.ConnectCallback = (context, cancellationToken) => connect(context.DnsEndPoint, cancellationToken);
        }

        return new HttpMessageInvoker(handler, disposeHandler: true);
    }

    /// <summary>
    /// Runs TLS over <paramref name="stream"/> with the API's options, <paramref name="host"/> as the SNI
    /// name and the name the certificate must carry, and ALPN http/1.1. On failure the stream is disposed.
    /// </summary>
    internal static async Task<Stream> StartHttp11TlsAsync(Stream stream, SslClientAuthenticationOptions template, string host, CancellationToken cancellationToken)
    {
        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                EnabledSslProtocols = template.EnabledSslProtocols,
                RemoteCertificateValidationCallback = template.RemoteCertificateValidationCallback,
                ClientCertificateContext = template.ClientCertificateContext,
                ApplicationProtocols = new List<SslApplicationProtocol> { SslApplicationProtocol.Http11 },
            }, cancellationToken).ConfigureAwait(false);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Builds the TLS client options: trust, the client certificate and the versions. The SNI name and
    /// the name to validate are set per connection: SocketsHttpHandler takes the Host header's name (the
    /// target host unless preserve-host-header is on), <see cref="UpstreamConnector"/> the target host.
    /// </summary>
    internal static SslClientAuthenticationOptions CreateSslOptions(UpstreamTls tls)
    {
        var validator = new UpstreamCertificateValidator(tls.CaBundle, tls.InsecureSkipVerify);
        var options = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = tls.Protocols,
            RemoteCertificateValidationCallback = validator.Validate,
        };
        if (tls.ClientCertificate is { } client)
        {
            options.ClientCertificateContext = SslStreamCertificateContext.Create(client.Certificate, client.Intermediates, offline: true);
        }

        return options;
    }
}
