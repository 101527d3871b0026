using System.Security.Authentication;

namespace Gateway.Actors.Apis;

/// <summary>An upstream's certificate failed validation; the message states the reason and contains no secret.</summary>
public sealed class UpstreamCertificateException : AuthenticationException
{
    public UpstreamCertificateException(string message)
        : base(message)
    {
    }
}
