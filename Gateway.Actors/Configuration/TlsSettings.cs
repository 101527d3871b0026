using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Actors.Configuration;

/// <summary>A certificate with its private key and the intermediate certificates sent with it.</summary>
/// <param name="File">The file the certificate was read from, for logs and errors.</param>
public sealed record CertificateWithChain(X509Certificate2 Certificate, X509Certificate2Collection Intermediates, string File);

/// <summary>A certificate that a TLS listener presents to clients that ask for <paramref name="ServerName"/>.</summary>
/// <param name="ServerName">An exact host name, or a wildcard such as "*.example.com" that matches one label.</param>
public sealed record SniCertificate(string ServerName, CertificateWithChain Certificate);

/// <summary>TLS on a client listener.</summary>
/// <param name="DefaultCertificate">Presented when no <see cref="Sni"/> entry matches the requested name or the client sends none.</param>
/// <param name="Protocols">TLS versions the listener accepts.</param>
/// <param name="Http2">Whether ALPN offers h2 as well as http/1.1.</param>
public sealed record ListenerTls(
    CertificateWithChain DefaultCertificate,
    IReadOnlyList<SniCertificate> Sni,
    SslProtocols Protocols,
    bool Http2)
{
    /// <summary>
    /// Selects the certificate for the server name a client sent (SNI): an exact match first, then a
    /// wildcard entry for the name's parent domain, then the default certificate.
    /// </summary>
    public CertificateWithChain Select(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            return DefaultCertificate;
        }

        foreach (var entry in Sni)
        {
            if (string.Equals(entry.ServerName, serverName, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Certificate;
            }
        }

        var dot = serverName.IndexOf('.');
        if (dot > 0)
        {
            var wildcard = "*" + serverName[dot..];
            foreach (var entry in Sni)
            {
                if (string.Equals(entry.ServerName, wildcard, StringComparison.OrdinalIgnoreCase))
                {
                    return entry.Certificate;
                }
            }
        }

        return DefaultCertificate;
    }
}

/// <summary>TLS towards the upstreams of one API, used for https and wss target URLs.</summary>
/// <param name="CaBundle">Certificate authorities trusted in addition to the system's trust store; null for none.</param>
/// <param name="InsecureSkipVerify">Whether any upstream certificate is accepted without validation.</param>
/// <param name="ClientCertificate">The certificate sent to upstreams that ask for one (mutual TLS); null for none.</param>
/// <param name="Protocols">TLS versions the gateway offers to the upstream.</param>
public sealed record UpstreamTls(
    X509Certificate2Collection? CaBundle,
    bool InsecureSkipVerify,
    CertificateWithChain? ClientCertificate,
    SslProtocols Protocols)
{
    public static readonly UpstreamTls Default = new(null, false, null, SslProtocols.Tls12 | SslProtocols.Tls13);
}
