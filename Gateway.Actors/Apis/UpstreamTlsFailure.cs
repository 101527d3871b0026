using System.Security.Authentication;

namespace Gateway.Actors.Apis;

/// <summary>Finds why a TLS connection to an upstream failed, for the 502 error and the log.</summary>
public static class UpstreamTlsFailure
{
    /// <summary>
    /// Returns the reason for a failed TLS handshake with the upstream found in <paramref name="error"/>
    /// or its inner exceptions, or null when the failure was not about TLS.
    /// </summary>
    /// <remarks>
    /// NOTE: under TLS 1.3 an upstream rejects a missing client certificate after the handshake by
    /// closing the connection, so that case arrives as an ended response and is not recognised here.
    /// </remarks>
    public static string? Describe(Exception? error)
    {
        var secureConnectionError = false;
        for (var current = error; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case UpstreamCertificateException certificate:
                    return certificate.Message;
                case HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError }:
                    secureConnectionError = true;
                    break;
                case AuthenticationException authentication:
                    return "the TLS handshake with the upstream failed: " + authentication.Message.TrimEnd('.');
            }
        }

        return secureConnectionError ? "the TLS handshake with the upstream failed" : null;
    }
}
