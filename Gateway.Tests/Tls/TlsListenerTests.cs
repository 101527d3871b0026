using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Tests.Proxy;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Tls;

public sealed class TlsListenerTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task WssClientToWssUpstream_EchoesTextAndBinary()
    {
        await using var upstream = await TestUpstream.StartTlsEchoAsync(_certificates.IssueLoopbackServer());
        await using var gateway = await StartTlsGatewayAsync(upstream.WssUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var invoker = new HttpMessageInvoker(_certificates.CreateTrustingHandler());
        using var client = new ClientWebSocket();
        client.Options.CollectHttpResponseDetails = true;

        await client.ConnectAsync(WssUri(gateway.ClientEndpoint, "/echo/"), invoker, cancellation.Token);
        var text = await WebSocketEchoTests.SendAndReceiveAsync(client, Encoding.UTF8.GetBytes("hello over TLS"), WebSocketMessageType.Text, cancellation.Token);
        var binary = await WebSocketEchoTests.SendAndReceiveAsync(client, new byte[] { 0, 1, 2, 255 }, WebSocketMessageType.Binary, cancellation.Token);

        Assert.Equal(HttpStatusCode.SwitchingProtocols, client.HttpStatusCode);
        Assert.Equal("hello over TLS", Encoding.UTF8.GetString(text.Payload));
        Assert.Equal(WebSocketMessageType.Text, text.Type);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, binary.Payload);
        Assert.Equal(WebSocketMessageType.Binary, binary.Type);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellation.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task Http2Client_EchoesThroughHttp11Upstream()
    {
        await using var upstream = await TestUpstream.StartTlsEchoAsync(_certificates.IssueLoopbackServer());
        await using var gateway = await StartTlsGatewayAsync(upstream.WssUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var invoker = new HttpMessageInvoker(_certificates.CreateTrustingHandler());
        using var client = new ClientWebSocket();
        client.Options.HttpVersion = HttpVersion.Version20;
        client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        client.Options.CollectHttpResponseDetails = true;
        client.Options.AddSubProtocol("a");
        client.Options.AddSubProtocol("b");

        await client.ConnectAsync(WssUri(gateway.ClientEndpoint, "/echo/"), invoker, cancellation.Token);
        var text = await WebSocketEchoTests.SendAndReceiveAsync(client, Encoding.UTF8.GetBytes("hello over h2"), WebSocketMessageType.Text, cancellation.Token);
        var binary = await WebSocketEchoTests.SendAndReceiveAsync(client, new byte[] { 9, 8, 7, 0 }, WebSocketMessageType.Binary, cancellation.Token);
        await client.CloseAsync((WebSocketCloseStatus)4000, "bye", cancellation.Token);

        // An extended CONNECT is accepted with 200 (RFC 8441 section 5); 101 would mean HTTP/1.1.
        Assert.Equal(HttpStatusCode.OK, client.HttpStatusCode);
        Assert.False(client.HttpResponseHeaders?.ContainsKey("Sec-WebSocket-Accept") ?? false, "Sec-WebSocket-Accept was relayed to an HTTP/2 client");
        Assert.Equal("b", client.SubProtocol);
        Assert.Equal("hello over h2", Encoding.UTF8.GetString(text.Payload));
        Assert.Equal(WebSocketMessageType.Text, text.Type);
        Assert.Equal(new byte[] { 9, 8, 7, 0 }, binary.Payload);
        Assert.Equal(WebSocketMessageType.Binary, binary.Type);
        Assert.Equal((WebSocketCloseStatus)4000, client.CloseStatus);
        Assert.Equal("bye", client.CloseStatusDescription);
    }

    [Fact]
    public async Task Http2Client_EchoesLargeMessages()
    {
        await using var upstream = await TestUpstream.StartTlsEchoAsync(_certificates.IssueLoopbackServer());
        await using var gateway = await StartTlsGatewayAsync(upstream.WssUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var invoker = new HttpMessageInvoker(_certificates.CreateTrustingHandler());
        using var client = new ClientWebSocket();
        client.Options.HttpVersion = HttpVersion.Version20;
        client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        await client.ConnectAsync(WssUri(gateway.ClientEndpoint, "/echo/"), invoker, cancellation.Token);

        // Larger than Kestrel's default HTTP/2 stream window (768 KiB), so flow control must work both ways.
        for (var i = 0; i < 8; i++)
        {
            var message = System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024 * 1024);
            var echoed = await WebSocketEchoTests.SendAndReceiveAsync(client, message, WebSocketMessageType.Binary, cancellation.Token);
            Assert.True(message.AsSpan().SequenceEqual(echoed.Payload), $"message {i} came back different");
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellation.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task Http2Request_IsForwardedToHttp11Upstream()
    {
        await using var upstream = await TestUpstream.StartTlsEchoAsync(_certificates.IssueLoopbackServer());
        await using var gateway = await StartTlsGatewayAsync(upstream.WssUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var http = new HttpClient(_certificates.CreateTrustingHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, WssUri(gateway.ClientEndpoint, "/echo/page?q=1").ToString().Replace("wss://", "https://"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await http.SendAsync(request, cancellation.Token);

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET /page?q=1", await response.Content.ReadAsStringAsync(cancellation.Token));
    }

    [Fact]
    public async Task Http2Client_GetsUpstreamRejectionStatus()
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("no entry");
        });
        await using var gateway = await StartTlsGatewayAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var invoker = new HttpMessageInvoker(_certificates.CreateTrustingHandler());
        using var client = new ClientWebSocket();
        client.Options.HttpVersion = HttpVersion.Version20;
        client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        client.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(WssUri(gateway.ClientEndpoint, "/echo/"), invoker, cancellation.Token));

        Assert.Equal(HttpStatusCode.Forbidden, client.HttpStatusCode);
    }

    [Fact]
    public async Task PlainAndTlsListeners_ServeTheSameApi()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        var (certificate, key) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());
        await using var gateway = await TestGateway.StartAsync($$"""
            listen = [
              { host = "127.0.0.1", port = 0 }
              { host = "127.0.0.1", port = 0, tls { certificate = "{{certificate}}", key = "{{key}}" } }
            ]
            apis {
              echo {
                listen-path = "/echo/"
                target-url = "{{upstream.WsUri()}}"
              }
            }
            """);
        using var cancellation = new CancellationTokenSource(Timeout);
        using var invoker = new HttpMessageInvoker(_certificates.CreateTrustingHandler());
        using var plain = new ClientWebSocket();
        using var secure = new ClientWebSocket();

        await plain.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.ClientEndpoints[0].Port}/echo/"), cancellation.Token);
        await secure.ConnectAsync(WssUri(gateway.ClientEndpoints[1], "/echo/"), invoker, cancellation.Token);
        var overPlain = await WebSocketEchoTests.SendAndReceiveAsync(plain, Encoding.UTF8.GetBytes("plain"), WebSocketMessageType.Text, cancellation.Token);
        var overTls = await WebSocketEchoTests.SendAndReceiveAsync(secure, Encoding.UTF8.GetBytes("tls"), WebSocketMessageType.Text, cancellation.Token);

        Assert.Equal(2, gateway.ClientEndpoints.Count);
        Assert.Equal("plain", Encoding.UTF8.GetString(overPlain.Payload));
        Assert.Equal("tls", Encoding.UTF8.GetString(overTls.Payload));
    }

    [Fact]
    public async Task Sni_SelectsCertificatePerHostName()
    {
        var (defaultCertificate, defaultKey) = _certificates.WritePemPair(_certificates.IssueServer("default.test"));
        var (apiCertificate, apiKey) = _certificates.WritePemPair(_certificates.IssueServer("api.test"));
        var wildcardPassword = "pfx password";
        var wildcardPfx = _certificates.WritePfx(_certificates.IssueServer("*.wild.test"), wildcardPassword);
        await using var gateway = await TestGateway.StartAsync($$"""
            listen = [
              { host = "127.0.0.1", port = 0, tls {
                  certificate = "{{defaultCertificate}}"
                  key = "{{defaultKey}}"
                  sni = [
                    { server-name = "api.test", certificate = "{{apiCertificate}}", key = "{{apiKey}}" }
                    { server-name = "*.wild.test", pfx = "{{wildcardPfx}}", password = "{{wildcardPassword}}" }
                  ]
                }
              }
            ]
            """);

        Assert.Equal("CN=api.test", await ServerCertificateSubjectAsync(gateway.ClientEndpoint, "api.test"));
        Assert.Equal("CN=api.test", await ServerCertificateSubjectAsync(gateway.ClientEndpoint, "API.test"));
        Assert.Equal("CN=*.wild.test", await ServerCertificateSubjectAsync(gateway.ClientEndpoint, "one.wild.test"));
        Assert.Equal("CN=default.test", await ServerCertificateSubjectAsync(gateway.ClientEndpoint, "two.levels.wild.test"));
        Assert.Equal("CN=default.test", await ServerCertificateSubjectAsync(gateway.ClientEndpoint, "other.test"));
    }

    [Fact]
    public async Task ExpiredListenerCertificate_StillStarts()
    {
        var expired = _certificates.IssueServer("localhost", new[] { "localhost" }, new[] { IPAddress.Loopback }, DateTimeOffset.UtcNow.AddDays(-1));
        var (certificate, key) = _certificates.WritePemPair(expired);
        await using var gateway = await TestGateway.StartAsync($$"""
            listen = [ { host = "127.0.0.1", port = 0, tls { certificate = "{{certificate}}", key = "{{key}}" } } ]
            """);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.ClientEndpoint);
        await using var tls = new SslStream(tcp.GetStream());

        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });

        Assert.Equal(expired.Thumbprint, new X509Certificate2(tls.RemoteCertificate!).Thumbprint);
    }

    [Theory]
    [InlineData("on", "h2")]
    [InlineData("off", "http/1.1")]
    public async Task Alpn_OffersHttp2OnlyWhenEnabled(string http2, string expected)
    {
        var (certificate, key) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());
        await using var gateway = await TestGateway.StartAsync($$"""
            listen = [ { host = "127.0.0.1", port = 0, tls { certificate = "{{certificate}}", key = "{{key}}", http2 = {{http2}} } } ]
            """);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.ClientEndpoint);
        await using var tls = new SslStream(tcp.GetStream());

        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = new() { SslApplicationProtocol.Http2, SslApplicationProtocol.Http11 },
            RemoteCertificateValidationCallback = (_, presented, _, errors) => _certificates.IsTrusted(presented, errors),
        });

        Assert.Equal(expected, tls.NegotiatedApplicationProtocol.ToString());
    }

    [Fact]
    public async Task PlainListener_RejectsHttp2PriorKnowledge()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        client.Options.HttpVersion = HttpVersion.Version20;
        client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false });

        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(gateway.WsUri("/echo/"), invoker, cancellation.Token));

        Assert.NotEqual(WebSocketState.Open, client.State);
    }

    private async Task<TestGateway> StartTlsGatewayAsync(Uri target)
    {
        var (certificate, key) = _certificates.WritePemPair(_certificates.IssueLoopbackServer());
        return await TestGateway.StartAsync($$"""
            listen = [ { host = "127.0.0.1", port = 0, tls { certificate = "{{certificate}}", key = "{{key}}" } } ]
            apis {
              echo {
                listen-path = "/echo/"
                target-url = "{{target}}"
                upstream-tls { ca-bundle = "{{_certificates.AuthorityFile}}" }
              }
            }
            """);
    }

    private static Uri WssUri(IPEndPoint endpoint, string path) => new($"wss://127.0.0.1:{endpoint.Port}{path}");

    private static async Task<string> ServerCertificateSubjectAsync(IPEndPoint endpoint, string serverName)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        return new X509Certificate2(tls.RemoteCertificate!).Subject;
    }
}
