using System.Security.Authentication;

namespace Gateway.Actors.Apis;

/// <summary>An upstream's certificate failed validation; the message says why and holds nothing secret.</summary>
public sealed class UpstreamCertificateException : AuthenticationException
{
    public UpstreamCertificateException(string message)
        : base(message)
    {
    }
}
