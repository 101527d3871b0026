using System.Net.Security;
using Gateway.Actors.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Serilog;

namespace Gateway.Host.Hosting;

/// <summary>Turns a listener's TLS settings into Kestrel's TLS options: SNI certificates, versions and ALPN.</summary>
internal static class ListenerTlsSetup
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Sets the listener's HTTP versions and adds TLS with a certificate chosen per SNI name.</summary>
    public static void UseTls(ListenOptions options, ListenerTls tls)
    {
        // ALPN lists only what the gateway carries end to end. WebSockets over HTTP/2 (RFC 8441) are
        // bridged to HTTP/1.1 upstreams, so h2 is offered unless the operator turns it off.
        options.Protocols = tls.Http2 ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;
        var applicationProtocols = tls.Http2
            ? new List<SslApplicationProtocol> { SslApplicationProtocol.Http2, SslApplicationProtocol.Http11 }
            : new List<SslApplicationProtocol> { SslApplicationProtocol.Http11 };

        // Each chain is built once here rather than in every handshake.
        var contexts = new Dictionary<CertificateWithChain, SslStreamCertificateContext>(ReferenceEqualityComparer.Instance)
        {
            [tls.DefaultCertificate] = CreateContext(tls.DefaultCertificate),
        };
        foreach (var entry in tls.Sni)
        {
            contexts[entry.Certificate] = CreateContext(entry.Certificate);
        }

        options.UseHttps(new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = HandshakeTimeout,
            OnConnection = context => ValueTask.FromResult(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = contexts[tls.Select(context.ClientHelloInfo.ServerName)],
                EnabledSslProtocols = tls.Protocols,
                ApplicationProtocols = applicationProtocols,
                ClientCertificateRequired = false,
            }),
        });
    }

    private static SslStreamCertificateContext CreateContext(CertificateWithChain certificate)
    {
        // An expired certificate does not stop the listener, so that a restart cannot take the gateway
        // down. Clients will reject it, so the operator is warned now.
        var now = DateTime.Now;
        if (now > certificate.Certificate.NotAfter || now < certificate.Certificate.NotBefore)
        {
            Log.Warning("The listener certificate {Subject} from {File} is valid only from {NotBefore:u} to {NotAfter:u}, so clients will reject it; replace the file and restart",
                certificate.Certificate.Subject, certificate.File,
                certificate.Certificate.NotBefore.ToUniversalTime(), certificate.Certificate.NotAfter.ToUniversalTime());
        }

        return SslStreamCertificateContext.Create(certificate.Certificate, certificate.Intermediates, offline: true);
    }
}
