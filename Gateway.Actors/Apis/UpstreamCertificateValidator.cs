using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Actors.Apis;

/// <summary>
/// Validates upstream certificates against the system's trust store plus an API's CA bundle, and
/// rejects a certificate by throwing <see cref="UpstreamCertificateException"/> with the reason.
/// </summary>
/// <remarks>
/// A validation callback that returns false leaves only "rejected by the callback" in the exception
/// that reaches the request, and the callback cannot see which request opened the connection. An
/// exception thrown here travels inside the request's HttpRequestException instead, so the 502 sent
/// to the client can say why.
/// </remarks>
internal sealed class UpstreamCertificateValidator
{
    // id-kp-serverAuth (RFC 5280 section 4.2.1.12): the usage a TLS server certificate must allow.
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private readonly X509Certificate2Collection? _caBundle;
    private readonly bool _insecureSkipVerify;

    public UpstreamCertificateValidator(X509Certificate2Collection? caBundle, bool insecureSkipVerify)
    {
        _caBundle = caBundle;
        _insecureSkipVerify = insecureSkipVerify;
    }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_insecureSkipVerify || errors == SslPolicyErrors.None)
        {
            return true;
        }

        var host = (sender as SslStream)?.TargetHostName ?? "the target host";
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            throw new UpstreamCertificateException($"the upstream {host} sent no certificate");
        }

        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        var reasons = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var chainReason = _caBundle is null ? DescribeChain(leaf, chain) : ValidateWithBundle(leaf, chain);
            if (chainReason is not null)
            {
                reasons.Add(chainReason);
            }
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            reasons.Add($"the certificate does not match the host name {host} (it is issued to {leaf.GetNameInfo(X509NameType.DnsName, false)})");
        }

        if (reasons.Count == 0)
        {
            return true;
        }

        throw new UpstreamCertificateException($"the certificate of {host} is not valid: {string.Join("; ", reasons)}");
    }

    /// <summary>Builds the chain again with the CA bundle as extra roots; returns null when it is valid.</summary>
    private string? ValidateWithBundle(X509Certificate2 leaf, X509Chain? systemChain)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_caBundle!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        if (systemChain is not null)
        {
            // The intermediates the upstream sent with its certificate.
            chain.ChainPolicy.ExtraStore.AddRange(systemChain.ChainPolicy.ExtraStore);
        }

        return chain.Build(leaf) ? null : DescribeChain(leaf, chain);
    }

    private static string DescribeChain(X509Certificate2 leaf, X509Chain? chain)
    {
        var statuses = chain?.ChainElements
            .SelectMany(element => element.ChainElementStatus.Select(status => (element.Certificate, status.Status)))
            .Where(item => item.Status != X509ChainStatusFlags.NoError)
            .ToList() ?? new();

        var expired = statuses.FirstOrDefault(item => item.Status.HasFlag(X509ChainStatusFlags.NotTimeValid)).Certificate;
        if (expired is not null)
        {
            var expiredName = expired.Thumbprint == leaf.Thumbprint ? "it" : $"the issuing certificate {expired.Subject}";
            return DateTime.Now > expired.NotAfter
                ? $"{expiredName} expired on {expired.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC"
                : $"{expiredName} is not valid before {expired.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC";
        }

        if (statuses.Any(item => item.Status.HasFlag(X509ChainStatusFlags.Revoked)))
        {
            return "it has been revoked";
        }

        if (statuses.Any(item => item.Status.HasFlag(X509ChainStatusFlags.UntrustedRoot) || item.Status.HasFlag(X509ChainStatusFlags.PartialChain)))
        {
            return $"it is issued by {leaf.Issuer}, which is not a trusted certificate authority " +
                "(add that authority's certificate to upstream-tls.ca-bundle)";
        }

        if (statuses.Any(item => item.Status.HasFlag(X509ChainStatusFlags.NotValidForUsage)))
        {
            return "it is not valid for TLS server authentication";
        }

        var flags = statuses.Select(item => item.Status.ToString()).Distinct();
        return $"its certificate chain is invalid ({string.Join(", ", flags)})";
    }
}
