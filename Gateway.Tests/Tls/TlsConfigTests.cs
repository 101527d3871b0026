using System.Security.Authentication;
using Gateway.Actors.Configuration;
using Gateway.Tests.Support;

namespace Gateway.Tests.Tls;

public sealed class TlsConfigTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public void MissingCertificateFile_StopsStartUpNamingFile()
    {
        var missing = Path.Combine(_certificates.Directory, "missing", "gateway.pem");

        var error = Assert.Throws<ConfigException>(() => LoadListener($"certificate = \"{missing}\", key = \"{missing}.key\""));

        Assert.Contains($"test.conf: gateway.listen[0].tls.certificate: cannot read \"{missing}\": the file does not exist.", error.Message);
    }

    [Fact]
    public void RelativeCertificatePath_IsReadFromConfigDirectory()
    {
        var (certificate, key) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());
        var configFile = Path.Combine(_certificates.Directory, "gateway.conf");
        File.WriteAllText(configFile, $$"""
            gateway.listen = [ { host = "127.0.0.1", port = 0, tls { certificate = "{{Path.GetFileName(certificate)}}", key = "{{Path.GetFileName(key)}}" } } ]
            gateway.apis.wrong { listen-path = "/wrong/", target-url = "wss://example.test/", upstream-tls { ca-bundle = "nowhere/ca.pem" } }
            """);

        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadFile(configFile));

        var expectedPath = Path.Combine(_certificates.Directory, "nowhere", "ca.pem");
        Assert.Contains($"{configFile}: gateway.apis.wrong.upstream-tls.ca-bundle: cannot read \"{expectedPath}\": the file does not exist.", error.Message);
        Assert.DoesNotContain("gateway.listen", error.Message);
    }

    [Fact]
    public void GarbageCertificate_StopsStartUpSayingWhy()
    {
        var garbage = _certificates.WritePem("not a certificate");
        var (_, key) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());

        var error = Assert.Throws<ConfigException>(() => LoadListener($"certificate = \"{garbage}\", key = \"{key}\""));

        Assert.Contains($"gateway.listen[0].tls.certificate: cannot load the certificate \"{garbage}\" with the key \"{key}\"", error.Message);
        Assert.Contains("Expected a PEM certificate (-----BEGIN CERTIFICATE-----)", error.Message);
    }

    [Fact]
    public void KeyOfAnotherCertificate_StopsStartUp()
    {
        var (certificate, _) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());
        var (_, otherKey) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());

        var error = Assert.Throws<ConfigException>(() => LoadListener($"certificate = \"{certificate}\", key = \"{otherKey}\""));

        Assert.Contains($"gateway.listen[0].tls.certificate: cannot load the certificate \"{certificate}\" with the key \"{otherKey}\"", error.Message);
    }

    [Fact]
    public void CertificateWithoutKey_StopsStartUp()
    {
        var (certificate, _) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());

        var error = Assert.Throws<ConfigException>(() => LoadListener($"certificate = \"{certificate}\""));

        Assert.Contains("gateway.listen[0].tls", error.Message);
        Assert.Contains(certificate, error.Message);
    }

    [Fact]
    public void PfxWithWrongPassword_StopsStartUp()
    {
        var pfx = _certificates.WritePfx(_certificates.IssueLoopbackServer(), "right");

        var error = Assert.Throws<ConfigException>(() => LoadListener($"pfx = \"{pfx}\", password = \"wrong\""));

        Assert.Contains($"gateway.listen[0].tls.pfx: cannot load the PFX file \"{pfx}\"", error.Message);
        Assert.DoesNotContain("wrong", error.Message.Replace(pfx, ""));
    }

    [Fact]
    public void PfxWithPassword_Loads()
    {
        var pfx = _certificates.WritePfx(_certificates.IssueLoopbackServer(), "right");

        var listener = LoadListener($"pfx = \"{pfx}\", password = \"right\", min-version = \"1.3\"");

        Assert.NotNull(listener.Tls);
        Assert.True(listener.Tls.DefaultCertificate.Certificate.HasPrivateKey);
        Assert.Equal(SslProtocols.Tls13, listener.Tls.Protocols);
        Assert.True(listener.Tls.Http2);
    }

    [Fact]
    public void PfxAndPemTogether_AreRejected()
    {
        var (certificate, key) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());
        var pfx = _certificates.WritePfx(_certificates.IssueLoopbackServer(), "right");

        var error = Assert.Throws<ConfigException>(() => LoadListener($"certificate = \"{certificate}\", key = \"{key}\", pfx = \"{pfx}\""));

        Assert.Contains("gateway.listen[0].tls: set either certificate and key (PEM files) or pfx and password, not both.", error.Message);
    }

    [Theory]
    [InlineData("min-version = \"1.1\"", "gateway.listen[0].tls.min-version: found \"1.1\", expected \"1.2\" or \"1.3\".")]
    [InlineData("sni = [ { server-name = \"bad name\", certificate = \"x.pem\" } ]", "gateway.listen[0].tls.sni[0].server-name: found \"bad name\"")]
    [InlineData("colour = blue", "gateway.listen[0].tls.colour: unknown key.")]
    public void InvalidListenerTlsValue_IsReported(string extra, string expected)
    {
        var (certificate, key) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());

        var error = Assert.Throws<ConfigException>(() => LoadListener($"certificate = \"{certificate}\", key = \"{key}\", {extra}"));

        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("ca-bundle = \"{empty}\"", "upstream-tls.ca-bundle: the CA bundle \"{empty}\" contains no PEM certificate")]
    [InlineData("client-key = \"{empty}\"", "upstream-tls.client-certificate: missing: client-key is set")]
    [InlineData("min-version = \"1.0\"", "upstream-tls.min-version: found \"1.0\", expected \"1.2\" or \"1.3\".")]
    [InlineData("insecure-skip-verify = maybe", "upstream-tls.insecure-skip-verify: found \"maybe\", expected on or off.")]
    [InlineData("ca_bundle = \"x\"", "upstream-tls.ca_bundle: unknown key. Did you mean 'ca-bundle'?")]
    public void InvalidUpstreamTlsValue_IsReported(string setting, string expected)
    {
        var empty = _certificates.WritePem("");
        var text = $$"""
            gateway.apis.echo {
              listen-path = "/echo/"
              target-url = "wss://upstream.test/"
              upstream-tls { {{setting.Replace("{empty}", empty)}} }
            }
            """;

        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText(text, "test.conf"));

        Assert.Contains("test.conf: gateway.apis.echo." + expected.Replace("{empty}", empty), error.Message);
    }

    [Fact]
    public void UpstreamTls_LoadsBundleAndClientCertificate()
    {
        var (clientCertificate, clientKey) = _certificates.WritePemPair(_certificates.IssueClient("gateway-client"));
        var text = $$"""
            gateway.apis.echo {
              listen-path = "/echo/"
              target-url = "wss://upstream.test/"
              upstream-tls {
                ca-bundle = "{{_certificates.AuthorityFile}}"
                client-certificate = "{{clientCertificate}}"
                client-key = "{{clientKey}}"
                min-version = "1.3"
              }
            }
            """;

        var tls = GatewayConfigLoader.LoadText(text, "test.conf").Gateway.Apis[0].UpstreamTls;

        Assert.Equal(_certificates.Authority.Thumbprint, Assert.Single(tls.CaBundle!).Thumbprint);
        Assert.Equal("CN=gateway-client", tls.ClientCertificate!.Certificate.Subject);
        Assert.True(tls.ClientCertificate.Certificate.HasPrivateKey);
        Assert.False(tls.InsecureSkipVerify);
        Assert.Equal(SslProtocols.Tls13, tls.Protocols);
    }

    [Fact]
    public void UpstreamTls_DefaultsToSystemTrust()
    {
        var text = """
            gateway.apis.echo {
              listen-path = "/echo/"
              target-url = "wss://upstream.test/"
            }
            """;

        var tls = GatewayConfigLoader.LoadText(text, "test.conf").Gateway.Apis[0].UpstreamTls;

        Assert.Null(tls.CaBundle);
        Assert.Null(tls.ClientCertificate);
        Assert.False(tls.InsecureSkipVerify);
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, tls.Protocols);
    }

    [Fact]
    public void TargetWithoutPort_BuildsPort443()
    {
        var text = """
            gateway.apis.echo {
              listen-path = "/echo/"
              target-url = "wss://upstream.test/base"
            }
            """;
        var api = GatewayConfigLoader.LoadText(text, "test.conf").Gateway.Apis[0];

        var uri = Gateway.Actors.Routing.TargetAddress.Build(api, api.TargetUrls[0], "/echo/chat", "?room=1");

        Assert.Equal("https", uri.Scheme);
        Assert.Equal(443, uri.Port);
        Assert.Equal("https://upstream.test/base/chat?room=1", uri.ToString());
    }

    private static ListenerSettings LoadListener(string tls)
    {
        var text = $$"""
            gateway.listen = [ { host = "127.0.0.1", port = 0, tls { {{tls}} } } ]
            """;
        return GatewayConfigLoader.LoadText(text, "test.conf").Gateway.Listeners[0];
    }
}
