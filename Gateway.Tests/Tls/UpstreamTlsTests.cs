using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Proxy;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gateway.Tests.Tls;

public sealed class UpstreamTlsTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly TestCertificates _certificates = new();
    private readonly TestCertificates _otherAuthority = new("Other Test CA");

    public void Dispose()
    {
        _certificates.Dispose();
        _otherAuthority.Dispose();
    }

    [Theory]
    [InlineData(true, "off")]
    [InlineData(false, "off")]
    [InlineData(true, "on")]
    [InlineData(false, "on")]
    public async Task UntrustedAuthority_Gives502WithReason(bool webSocket, string preserveHostHeader)
    {
        await using var upstream = await TestUpstream.StartTlsEchoAsync(_otherAuthority.IssueLoopbackServer());
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WssUri(), apiExtra: $"preserve-host-header = {preserveHostHeader}");

        var (status, error) = await SendAsync(gateway, webSocket);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("TLS to the upstream of API 'echo' failed", error);
        Assert.Contains("issued by CN=Other Test CA, which is not a trusted certificate authority", error);
    }

    [Theory]
    [InlineData("ca-bundle = \"{0}\"")]
    [InlineData("insecure-skip-verify = on")]
    public async Task UntrustedAuthority_PassesWhenTrustedOrSkipped(string upstreamTls)
    {
        await using var upstream = await TestUpstream.StartTlsEchoAsync(_otherAuthority.IssueLoopbackServer());
        await using var gateway = await TestGateway.StartWithApiAsync(
            upstream.WssUri(),
            apiExtra: $"upstream-tls {{ {string.Format(upstreamTls, _otherAuthority.AuthorityFile)} }}");
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        using var http = new HttpClient();

        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        var echoed = await WebSocketEchoTests.SendAndReceiveAsync(client, Encoding.UTF8.GetBytes("trusted"), WebSocketMessageType.Text, cancellation.Token);
        var response = await http.GetStringAsync(gateway.HttpUri("/echo/page"), cancellation.Token);

        Assert.Equal("trusted", Encoding.UTF8.GetString(echoed.Payload));
        Assert.Equal("GET /page", response);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ExpiredCertificate_Gives502SayingExpired(bool webSocket)
    {
        var expiredOn = DateTimeOffset.UtcNow.AddDays(-2);
        var certificate = _certificates.IssueServer("localhost", new[] { "localhost" }, new[] { IPAddress.Loopback }, expiredOn);
        await using var upstream = await TestUpstream.StartTlsEchoAsync(certificate);
        await using var gateway = await TestGateway.StartWithApiAsync(
            upstream.WssUri(), apiExtra: $"upstream-tls {{ ca-bundle = \"{_certificates.AuthorityFile}\" }}");

        var (status, error) = await SendAsync(gateway, webSocket);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains($"expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC", error);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task NameMismatch_Gives502SayingName(bool webSocket)
    {
        await using var upstream = await TestUpstream.StartTlsEchoAsync(_certificates.IssueServer("other.test"));
        await using var gateway = await TestGateway.StartWithApiAsync(
            upstream.WssUri(), apiExtra: $"upstream-tls {{ ca-bundle = \"{_certificates.AuthorityFile}\" }}");

        var (status, error) = await SendAsync(gateway, webSocket);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("does not match the host name 127.0.0.1 (it is issued to other.test)", error);
    }

    [Fact]
    public async Task MutualTls_WithClientCertificate_Echoes()
    {
        var (clientCertificate, clientKey) = _certificates.WritePemPair(_certificates.IssueClient("gateway-client"));
        await using var upstream = await StartMutualTlsUpstreamAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WssUri(), apiExtra: $$"""
            upstream-tls {
              ca-bundle = "{{_certificates.AuthorityFile}}"
              client-certificate = "{{clientCertificate}}"
              client-key = "{{clientKey}}"
            }
            """);
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        using var http = new HttpClient();

        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        var echoed = await WebSocketEchoTests.SendAndReceiveAsync(client, Encoding.UTF8.GetBytes("mutual"), WebSocketMessageType.Text, cancellation.Token);
        var subject = await http.GetStringAsync(gateway.HttpUri("/echo/who"), cancellation.Token);

        Assert.Equal("mutual", Encoding.UTF8.GetString(echoed.Payload));
        Assert.Equal("CN=gateway-client", subject);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task MutualTls_WithoutClientCertificate_Gives502(bool webSocket)
    {
        await using var upstream = await StartMutualTlsUpstreamAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(
            upstream.WssUri(), apiExtra: $"upstream-tls {{ ca-bundle = \"{_certificates.AuthorityFile}\" }}");

        var (status, error) = await SendAsync(gateway, webSocket);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("The upstream of API 'echo'", error);
    }

    [Theory]
    [InlineData("off")]
    [InlineData("on")]
    public async Task TargetWithoutPort_ConnectsTo443WithHostAsSni(string preserveHostHeader)
    {
        var certificate = _certificates.IssueServer("upstream.test");
        var serverNames = new ConcurrentQueue<string?>();
        await using var upstream = await TestUpstream.StartTlsEchoAsync(certificate, https =>
            https.ServerCertificateSelector = (_, name) =>
            {
                serverNames.Enqueue(name);
                return certificate;
            });
        var dialed = new ConcurrentQueue<DnsEndPoint>();

        // Stands in for DNS and port 443: only upstream.test:443 reaches the loopback upstream, so a
        // connection to any other host or port fails the test.
        async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, CancellationToken cancellationToken)
        {
            dialed.Enqueue(endpoint);
            if (endpoint is not { Host: "upstream.test", Port: 443 })
            {
                throw new SocketException((int)SocketError.HostNotFound);
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, upstream.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }

        await using var gateway = await TestGateway.StartAsync($$"""
            apis {
              echo {
                listen-path = "/echo/"
                target-url = "wss://upstream.test/base"
                preserve-host-header = {{preserveHostHeader}}
                upstream-tls { ca-bundle = "{{_certificates.AuthorityFile}}" }
              }
            }
            """, ConnectAsync);
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        using var http = new HttpClient();

        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        var echoed = await WebSocketEchoTests.SendAndReceiveAsync(client, Encoding.UTF8.GetBytes("port 443"), WebSocketMessageType.Text, cancellation.Token);
        var response = await http.GetStringAsync(gateway.HttpUri("/echo/page"), cancellation.Token);

        Assert.Equal("port 443", Encoding.UTF8.GetString(echoed.Payload));
        Assert.Equal("GET /base/page", response);
        Assert.NotEmpty(dialed);
        Assert.All(dialed, endpoint => Assert.Equal(443, endpoint.Port));
        Assert.All(dialed, endpoint => Assert.Equal("upstream.test", endpoint.Host));
        Assert.NotEmpty(serverNames);
        Assert.All(serverNames, name => Assert.Equal("upstream.test", name));
    }

    private Task<TestUpstream> StartMutualTlsUpstreamAsync() =>
        TestUpstream.StartAsync(async context =>
        {
            if (context.WebSockets.IsWebSocketRequest)
            {
                await TestUpstream.EchoAsync(context);
                return;
            }

            await context.Response.WriteAsync(context.Connection.ClientCertificate?.Subject ?? "no client certificate");
        }, listener =>
        {
            listener.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1;
            listener.UseHttps(_certificates.IssueLoopbackServer(), https =>
            {
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (certificate, _, errors) => _certificates.IsTrusted(certificate, errors);
            });
        });

    /// <summary>Sends a WebSocket upgrade or a plain GET to /echo/ and returns the status and the JSON error, if any.</summary>
    private static async Task<(HttpStatusCode Status, string Error)> SendAsync(TestGateway gateway, bool webSocket)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/"));
        if (webSocket)
        {
            request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
            request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
            request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
            request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        }

        using var cancellation = new CancellationTokenSource(Timeout);
        using var response = await http.SendAsync(request, cancellation.Token);
        var body = await response.Content.ReadAsStringAsync(cancellation.Token);
        var error = response.Content.Headers.ContentType?.MediaType == "application/json"
            ? JsonDocument.Parse(body).RootElement.GetProperty("error").GetString() ?? ""
            : body;
        return (response.StatusCode, error);
    }
}
