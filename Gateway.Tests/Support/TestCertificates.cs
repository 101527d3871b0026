using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tests.Support;

/// <summary>
/// A certificate authority made at run time that issues server and client certificates, and writes
/// them as PEM files to a temporary directory. No private key is ever stored in the repository.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly ECDsa _caKey;
    private int _nextFile;

    public TestCertificates(string name = "Gateway Test CA")
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("gateway-tls-").FullName;
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddYears(-1), DateTimeOffset.UtcNow.AddYears(1));
        AuthorityFile = WritePem(Authority.ExportCertificatePem());
    }

    /// <summary>The temporary directory that contains the PEM files, removed on dispose.</summary>
    public string Directory { get; }

    public X509Certificate2 Authority { get; }

    /// <summary>PEM file of <see cref="Authority"/>, for a CA bundle.</summary>
    public string AuthorityFile { get; }

    /// <summary>Issues a server certificate for the given DNS names and IP addresses.</summary>
    public X509Certificate2 IssueServer(string commonName, string[]? dnsNames = null, IPAddress[]? addresses = null, DateTimeOffset? notAfter = null) =>
        Issue(commonName, ServerAuthentication, dnsNames ?? new[] { commonName }, addresses ?? Array.Empty<IPAddress>(), notAfter);

    /// <summary>Issues a server certificate for 127.0.0.1 and localhost.</summary>
    public X509Certificate2 IssueLoopbackServer() => IssueServer("localhost", new[] { "localhost" }, new[] { IPAddress.Loopback });

    public X509Certificate2 IssueClient(string commonName) =>
        Issue(commonName, ClientAuthentication, Array.Empty<string>(), Array.Empty<IPAddress>(), null);

    /// <summary>Writes the certificate and its private key as two PEM files and returns their paths.</summary>
    public (string Certificate, string Key) WritePemPair(X509Certificate2 certificate)
    {
        var key = certificate.GetECDsaPrivateKey()!;
        return (WritePem(certificate.ExportCertificatePem()), WritePem(key.ExportPkcs8PrivateKeyPem()));
    }

    /// <summary>Writes the certificate with its private key as a PKCS#12 (PFX) file protected by <paramref name="password"/>.</summary>
    public string WritePfx(X509Certificate2 certificate, string password)
    {
        var path = Path.Combine(Directory, $"file{Interlocked.Increment(ref _nextFile)}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    public string WritePem(string text)
    {
        var path = Path.Combine(Directory, $"file{Interlocked.Increment(ref _nextFile)}.pem");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>
    /// Creates a client handler that trusts this authority only, checks the host name, and can speak
    /// HTTP/2, for ClientWebSocket.ConnectAsync and HttpClient.
    /// </summary>
    public SocketsHttpHandler CreateTrustingHandler() => new()
    {
        UseProxy = false,
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors),
        },
    };

    /// <summary>Accepts a certificate that this authority issued and that matches the host name.</summary>
    public bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }

    public void Dispose()
    {
        _caKey.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private X509Certificate2 Issue(string commonName, Oid usage, string[] dnsNames, IPAddress[] addresses, DateTimeOffset? notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { usage }, false));
        if (dnsNames.Length > 0 || addresses.Length > 0)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (var name in dnsNames)
            {
                names.AddDnsName(name);
            }

            foreach (var address in addresses)
            {
                names.AddIpAddress(address);
            }

            request.CertificateExtensions.Add(names.Build());
        }

        var end = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        var start = end < DateTimeOffset.UtcNow ? end.AddDays(-30) : DateTimeOffset.UtcNow.AddDays(-1);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(Authority, start, end, serial);
        return issued.CopyWithPrivateKey(key);
    }
}
